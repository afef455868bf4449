import { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import { z } from "zod";
import { diskUsage } from "../disk/usage.ts";
import { runGc } from "../disk/gc.ts";
import { notFound } from "../../lib/api-error.ts";
import { isClean } from "../git/checkpoints.ts";
import { removeSpare } from "../git/spares.ts";
import { killOrphan, listOrphans } from "../processes/orphans.ts";
import type { BoxServices } from "../services.ts";
import { validate } from "../../lib/validate.ts";

const gcBody = z.object({ dryRun: z.boolean().optional() }).optional();
const pidParam = z.object({ pid: z.coerce.number().int().min(2).max(4_194_304) });
const HEARTBEAT_MS = 15_000;

export const systemRoutes = (box: BoxServices) => {
  const excludePids = () => [process.pid, ...(box.opencode.pid ? [box.opencode.pid] : [])];
  return new Hono()
    .get("/disk", async (c) => c.json(await diskUsage({ layout: box.layout, budgetBytes: box.budgetBytes })))
    .post("/gc", validate("json", gcBody), async (c) => {
      const chats = await box.store.list();
      const clones = await box.cache.list();
      const result = await runGc({
        layout: box.layout,
        budgetBytes: box.budgetBytes,
        dryRun: c.req.valid("json")?.dryRun ?? false,
        chats: chats.map((ch) => ({ chatId: ch.chatId, repo: ch.repo, worktree: ch.worktree, busy: ch.status === "busy", archived: ch.archived })),
        isClean,
        removeWorktree: (repo, chatId) => box.chats.removeIdleWorktree(repo, chatId),
        removeSpare: (repo) => removeSpare(box.cache, repo),
        cloneLastUsed: async (repo) => clones.find((cl) => cl.repo === repo)?.lastUsedAt ?? 0,
      });
      return c.json(result);
    })
    .get("/processes", async (c) => c.json({ processes: await listOrphans({ excludePids: excludePids() }) }))
    .post("/processes/:pid/kill", validate("param", pidParam), async (c) => {
      const { pid } = c.req.valid("param");
      if (!(await killOrphan(pid, { excludePids: excludePids() }))) throw notFound(`process ${pid} is not a listed orphan`);
      return c.body(null, 204);
    })
    .get("/events", (c) =>
      streamSSE(c, async (stream) => {
        const unsubscribe = box.bus.subscribe((e) => void stream.writeSSE({ id: String(e.id), event: e.type, data: JSON.stringify(e) }));
        const heartbeat = setInterval(() => void stream.writeSSE({ event: "heartbeat", data: "{}" }), HEARTBEAT_MS);
        const closed = new Promise<void>((resolve) =>
          stream.onAbort(() => {
            clearInterval(heartbeat);
            unsubscribe();
            resolve();
          }),
        );
        await stream.writeSSE({ event: "connected", data: JSON.stringify({ opencode: box.opencode.up }) });
        await closed;
      }),
    );
};
