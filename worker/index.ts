import { createClient } from "@libsql/client/web";
import { createApp } from "./app.ts";
import { dbFrom } from "./db/client.ts";
import type { Env } from "./env.ts";
import { runScheduled } from "./scheduled.ts";

const db = (env: Env) => dbFrom(createClient({ url: env.DATABASE_URL, authToken: env.DATABASE_AUTH_TOKEN }));
const app = createApp({
  db,
  clientIp: (c) => c.req.header("cf-connecting-ip"),
});

export default {
  fetch: app.fetch,
  scheduled: (controller: ScheduledController, env: Env, ctx: ExecutionContext) =>
    ctx.waitUntil(runScheduled(db(env), env, { now: new Date(controller.scheduledTime) })),
} satisfies ExportedHandler<Env>;
