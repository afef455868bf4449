import { boxClient } from "./box/client.ts";
import type { Db } from "./db/client.ts";
import type { Env } from "./env.ts";
import { deliverPending } from "./chats/outbox.ts";

/** Every minute (Cron Trigger): retry the prompt outbox. */
export async function runScheduled(db: Db, env: Env, fetchImpl?: typeof fetch): Promise<void> {
  await deliverPending(db, boxClient(env, fetchImpl), { limit: 100 });
}
