import { inArray } from "drizzle-orm";
import { boxResolver, newChatBoxId } from "./boxes/resolve.ts";
import type { Db } from "./db/client.ts";
import { chats } from "./db/schema.ts";
import type { Env } from "./env.ts";
import { deliverChat, deliverPending } from "./chats/outbox.ts";
import { runDueSchedules } from "./schedules/runner.ts";

/**
 * Every minute (Cron Trigger): fire the schedules due at `now` (the trigger's scheduledTime), deliver
 * what they queued, each to its own box, then retry the rest of the prompt outbox.
 */
export async function runScheduled(db: Db, env: Env, opts: { fetchImpl?: typeof fetch; now?: Date } = {}): Promise<void> {
  const scope = { db, env, fetch: opts.fetchImpl };
  const boxFor = boxResolver(scope);
  // A schedule has no box of its own: each run's new chat goes to the user's default box at the time.
  const started = await runDueSchedules(db, opts.now ?? new Date(), { boxFor: (userId) => newChatBoxId(scope, userId) }).catch((err: unknown) => {
    console.error("schedules:", err);
    return [];
  });
  const rows = started.length > 0 ? await db.select({ id: chats.id, boxId: chats.boxId }).from(chats).where(inArray(chats.id, started)) : [];
  // At most one batch of schedules, side by side: a slow first clone must not hold up the others.
  await Promise.all(rows.map(async ({ id, boxId }) => {
    const box = await boxFor(boxId);
    if (box.configured) await deliverChat(db, box, id).catch((err: unknown) => console.error(`deliver ${id}:`, err));
  }));
  await deliverPending(db, boxFor, { limit: 100 });
}
