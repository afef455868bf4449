CREATE TABLE `schedule_runs` (
	`id` text PRIMARY KEY NOT NULL,
	`schedule_id` text NOT NULL,
	`scheduled_for` integer NOT NULL,
	`chat_id` text,
	`prompt_id` text,
	`error` text,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`schedule_id`) REFERENCES `schedules`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `schedule_runs_slot` ON `schedule_runs` (`schedule_id`,`scheduled_for`);--> statement-breakpoint
CREATE TABLE `usage_daily` (
	`user_id` text NOT NULL,
	`day` text NOT NULL,
	`cost_usd` real DEFAULT 0 NOT NULL,
	`tokens_in` integer DEFAULT 0 NOT NULL,
	`tokens_out` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`user_id`, `day`),
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
ALTER TABLE `chats` ADD `schedule_id` text;--> statement-breakpoint
ALTER TABLE `chats` ADD `issue_url` text;--> statement-breakpoint
ALTER TABLE `chats` ADD `forked_from` text;--> statement-breakpoint
ALTER TABLE `chats` ADD `pr_url` text;--> statement-breakpoint
ALTER TABLE `chats` ADD `cost_usd` real DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `chats` ADD `tokens_in` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `chats` ADD `tokens_out` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX `schedules_due` ON `schedules` (`paused`,`next_run_at`);