import { index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

const createdAt = () => integer("created_at", { mode: "timestamp_ms" }).notNull();

export const users = sqliteTable("users", {
  id: text("id").primaryKey(), // GitHub's numeric user id, as text
  login: text("login").notNull(),
  name: text("name"),
  avatarUrl: text("avatar_url"),
  githubTokenEnc: text("github_token_enc"), // AES-GCM, key from SESSION_SECRET
  createdAt: createdAt(),
  updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
}, (t) => [uniqueIndex("users_login").on(t.login)]);

export const sessions = sqliteTable("sessions", {
  id: text("id").primaryKey(), // SHA-256 of the cookie value; the cookie itself is never stored
  userId: text("user_id").notNull().references(() => users.id),
  createdAt: createdAt(),
  expiresAt: integer("expires_at", { mode: "timestamp_ms" }).notNull(),
  revokedAt: integer("revoked_at", { mode: "timestamp_ms" }),
}, (t) => [index("sessions_user").on(t.userId)]);

export const chats = sqliteTable("chats", {
  id: text("id").primaryKey(), // ULID minted by the worker
  userId: text("user_id").notNull().references(() => users.id),
  boxId: text("box_id"), // null = the single env-configured box
  repo: text("repo").notNull(),
  base: text("base"),
  branch: text("branch").notNull(),
  model: text("model"),
  title: text("title"),
  // queued (not yet on the box) | idle | busy | error | interrupted
  status: text("status").notNull(),
  needsYou: integer("needs_you", { mode: "boolean" }).notNull().default(false),
  error: text("error"),
  sessionId: text("session_id"),
  directory: text("directory"),
  baseCommit: text("base_commit"),
  filesChanged: integer("files_changed").notNull().default(0),
  additions: integer("additions").notNull().default(0),
  deletions: integer("deletions").notNull().default(0),
  groupId: text("group_id"), // parallel attempts share one
  scheduleId: text("schedule_id"), // the schedule whose run created it
  issueUrl: text("issue_url"), // started from a GitHub issue: the PR links back to it
  forkedFrom: text("forked_from"), // "<chatId>@<sha>" of the checkpoint it was forked from
  prUrl: text("pr_url"),
  // Totals from opencode's assistant messages, as the box reports them when a run ends.
  costUsd: real("cost_usd").notNull().default(0),
  tokensIn: integer("tokens_in").notNull().default(0),
  tokensOut: integer("tokens_out").notNull().default(0),
  muted: integer("muted", { mode: "boolean" }).notNull().default(false),
  archivedAt: integer("archived_at", { mode: "timestamp_ms" }),
  // One outbox delivery per chat at a time, across isolates; expires if its holder dies.
  deliveryLeaseUntil: integer("delivery_lease_until", { mode: "timestamp_ms" }),
  createdAt: createdAt(),
  lastActivityAt: integer("last_activity_at", { mode: "timestamp_ms" }).notNull(),
}, (t) => [index("chats_user_activity").on(t.userId, t.lastActivityAt), index("chats_session").on(t.sessionId)]);

export const prompts = sqliteTable("prompts", {
  id: text("id").primaryKey(), // promptId: from the UI (idempotent retries) or minted here
  chatId: text("chat_id").notNull().references(() => chats.id),
  userId: text("user_id").notNull().references(() => users.id),
  text: text("text").notNull(),
  model: text("model"),
  files: text("files", { mode: "json" }).$type<Array<{ mime: string; url: string; filename?: string }>>(),
  state: text("state").notNull(), // queued | sent | failed
  error: text("error"),
  attempts: integer("attempts").notNull().default(0),
  createdAt: createdAt(),
  sentAt: integer("sent_at", { mode: "timestamp_ms" }),
}, (t) => [index("prompts_chat").on(t.chatId, t.createdAt), index("prompts_state").on(t.state, t.createdAt)]);

export const checkpoints = sqliteTable("checkpoints", {
  sha: text("sha").notNull(),
  chatId: text("chat_id").notNull().references(() => chats.id),
  message: text("message").notNull(),
  filesChanged: integer("files_changed").notNull(),
  pushed: integer("pushed", { mode: "boolean" }).notNull(),
  createdAt: createdAt(),
}, (t) => [primaryKey({ columns: [t.chatId, t.sha] })]);

export const pushSubscriptions = sqliteTable("push_subscriptions", {
  id: text("id").primaryKey(),
  userId: text("user_id").notNull().references(() => users.id),
  endpoint: text("endpoint").notNull(),
  p256dh: text("p256dh").notNull(),
  auth: text("auth").notNull(),
  userAgent: text("user_agent"),
  createdAt: createdAt(),
}, (t) => [uniqueIndex("push_endpoint").on(t.endpoint)]);

export const schedules = sqliteTable("schedules", {
  id: text("id").primaryKey(),
  userId: text("user_id").notNull().references(() => users.id),
  repo: text("repo").notNull(),
  base: text("base"),
  prompt: text("prompt").notNull(),
  model: text("model"),
  cron: text("cron").notNull(),
  reuseChatId: text("reuse_chat_id"),
  paused: integer("paused", { mode: "boolean" }).notNull().default(false),
  nextRunAt: integer("next_run_at", { mode: "timestamp_ms" }),
  lastRunAt: integer("last_run_at", { mode: "timestamp_ms" }),
  createdAt: createdAt(),
}, (t) => [index("schedules_due").on(t.paused, t.nextRunAt)]);

/** One row per schedule firing; the unique slot makes a firing happen once even if two crons overlap. */
export const scheduleRuns = sqliteTable("schedule_runs", {
  id: text("id").primaryKey(),
  scheduleId: text("schedule_id").notNull().references(() => schedules.id),
  scheduledFor: integer("scheduled_for", { mode: "timestamp_ms" }).notNull(),
  chatId: text("chat_id"),
  promptId: text("prompt_id"),
  error: text("error"),
  createdAt: createdAt(),
}, (t) => [uniqueIndex("schedule_runs_slot").on(t.scheduleId, t.scheduledFor)]);

/** Cost and tokens per user per UTC day (YYYY-MM-DD), added to as runs end. */
export const usageDaily = sqliteTable("usage_daily", {
  userId: text("user_id").notNull().references(() => users.id),
  day: text("day").notNull(),
  costUsd: real("cost_usd").notNull().default(0),
  tokensIn: integer("tokens_in").notNull().default(0),
  tokensOut: integer("tokens_out").notNull().default(0),
}, (t) => [primaryKey({ columns: [t.userId, t.day] })]);

export const boxes = sqliteTable("boxes", {
  id: text("id").primaryKey(),
  userId: text("user_id").notNull().references(() => users.id),
  name: text("name").notNull(),
  url: text("url"),
  tokenEnc: text("token_enc"),
  registrationKeyHash: text("registration_key_hash"),
  lastSeenAt: integer("last_seen_at", { mode: "timestamp_ms" }),
  retiredAt: integer("retired_at", { mode: "timestamp_ms" }),
  createdAt: createdAt(),
});

export const recentRepos = sqliteTable("recent_repos", {
  userId: text("user_id").notNull().references(() => users.id),
  repo: text("repo").notNull(),
  usedAt: integer("used_at", { mode: "timestamp_ms" }).notNull(),
}, (t) => [primaryKey({ columns: [t.userId, t.repo] })]);
