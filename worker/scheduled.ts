import { boxClient } from "./box/client.ts";
import type { Db } from "./db/client.ts";
import type { Env } from "./env.ts";
import { deliverChat, deliverPending } from "./chats/outbox.ts";
import { runDueSchedules } from "./schedules/runner.ts";

/**
 * Every minute (Cron Trigger): fire the schedules due at `now` (the trigger's scheduledTime), deliver
 * what they queued, then retry the rest of the prompt outbox.
 */
export async function runScheduled(db: Db, env: Env, opts: { fetchImpl?: typeof fetch; now?: Date } = {}): Promise<void> {
  const box = boxClient(env, opts.fetchImpl);
  const started = await runDueSchedules(db, opts.now ?? new Date()).catch((err: unknown) => {
    console.error("schedules:", err);
    return [];
  });
  // At most one batch of schedules, side by side: a slow first clone must not hold up the others.
  if (box.configured) await Promise.all(started.map((id) => deliverChat(db, box, id).catch((err: unknown) => console.error(`deliver ${id}:`, err))));
  await deliverPending(db, box, { limit: 100 });
}
