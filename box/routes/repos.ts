import { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import { z } from "zod";
import { ApiError, conflict, notFound } from "../../lib/api-error.ts";
import { ownerSchema, repoNameSchema, repoSchema } from "../names.ts";
import type { BoxServices } from "../services.ts";
import type { CloneProgress } from "../git/clone-cache.ts";
import { makeSpare } from "../git/spares.ts";
import { detach } from "../lib/detach.ts";
import { validate } from "../../lib/validate.ts";

const cloneBody = z.object({ repo: repoSchema });
const repoParam = z.object({ owner: ownerSchema, name: repoNameSchema });

export const repoRoutes = (box: BoxServices) =>
  new Hono()
    .post("/clone", validate("json", cloneBody), async (c) => {
      const { repo } = c.req.valid("json");
      // The first chat on the repo then takes a ready checkout (box/git/spares.ts).
      const ensure = async (onProgress?: (p: CloneProgress) => void) => {
        const info = await box.cache.ensure(repo, onProgress);
        detach(() => makeSpare(box.cache, repo), `spare worktree for ${repo}`, box.log);
        return info;
      };
      if (!c.req.header("accept")?.includes("text/event-stream")) return c.json(await ensure());
      return streamSSE(c, async (stream) => {
        try {
          const info = await ensure((p) => void stream.writeSSE({ event: "progress", data: JSON.stringify(p) }));
          await stream.writeSSE({ event: "done", data: JSON.stringify(info) });
        } catch (err) {
          const e = err instanceof ApiError ? err : new ApiError(500, "internal", "clone failed");
          await stream.writeSSE({ event: "error", data: JSON.stringify({ error: { code: e.code, message: e.message } }) });
        }
      });
    })
    .get("/", async (c) => c.json({ repos: await box.cache.list() }))
    .delete("/:owner/:name", validate("param", repoParam), async (c) => {
      const { owner, name } = c.req.valid("param");
      const repo = `${owner}/${name}`;
      if (!(await box.cache.has(repo))) throw notFound(`${repo} is not cached`);
      const users = (await box.store.list()).filter((chat) => chat.repo === repo);
      if (users.length > 0) throw conflict(`${repo} is used by ${users.length} chat(s): delete them first`);
      await box.cache.remove(repo);
      return c.body(null, 204);
    });
