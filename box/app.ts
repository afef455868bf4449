import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { ApiError } from "../lib/api-error.ts";
import { constantTimeEqual } from "../lib/signature.ts";
import type { BoxServices } from "./services.ts";
import { chatRoutes } from "./routes/chats.ts";
import { repoRoutes } from "./routes/repos.ts";
import { systemRoutes } from "./routes/system.ts";
import { ocProxy } from "./routes/oc-proxy.ts";

const MB = 1024 * 1024;

export function createBoxApp(box: BoxServices) {
  const app = new Hono();

  app.onError((err, c) => {
    if (err instanceof ApiError) {
      if (err.status >= 500) box.log(`${err.status} on ${c.req.method} ${c.req.path}: ${err.message}`);
      return c.json({ error: { code: err.code, message: err.message } }, err.status);
    }
    if (err instanceof HTTPException) {
      const status = err.status;
      const code = status === 413 ? "too_large" : status === 401 ? "unauthorized" : "bad_request";
      return c.json({ error: { code, message: err.message || "bad request" } }, status);
    }
    box.log(`error on ${c.req.method} ${c.req.path}: ${err.stack ?? err.message}`);
    return c.json({ error: { code: "internal", message: "internal error in the box" } }, 500);
  });
  app.notFound((c) => c.json({ error: { code: "not_found", message: `no route ${c.req.method} ${c.req.path}` } }, 404));

  app.get("/healthz", (c) =>
    c.json({ ok: true, opencode: { up: box.opencode.up, version: box.opencode.version ?? null } }),
  );

  app.use("*", async (c, next) => {
    const header = c.req.header("authorization") ?? "";
    const token = header.startsWith("Bearer ") ? header.slice(7) : "";
    if (!token || !constantTimeEqual(token, box.token)) {
      throw new ApiError(401, "unauthorized", "missing or wrong bearer token");
    }
    await next();
  });

  const limit = (maxSize: number) =>
    bodyLimit({ maxSize, onError: () => { throw new ApiError(413, "too_large", `body over ${maxSize} bytes`); } });
  const promptLimit = limit(25 * MB);
  const mgmtLimit = limit(64 * 1024);
  app.use("/mgmt/*", (c, next) => (c.req.path.endsWith("/prompts") ? promptLimit : mgmtLimit)(c, next));
  // A read has no body; asking for one would build the whole web Request on the hot path.
  app.use("/oc/*", (c, next) => (c.req.method === "GET" || c.req.method === "HEAD" ? next() : promptLimit(c, next)));

  return app
    .route("/mgmt/repos", repoRoutes(box))
    .route("/mgmt/chats", chatRoutes(box))
    .route("/mgmt", systemRoutes(box))
    .route("/oc", ocProxy(box));
}

export type BoxApp = ReturnType<typeof createBoxApp>;
