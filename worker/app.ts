import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { ApiError } from "../lib/api-error.ts";
import type { AppDeps, AppEnv } from "./context.ts";
import { authRoutes } from "./auth/routes.ts";
import { requireUser, sameOrigin } from "./auth/middleware.ts";
import { meRoutes } from "./routes/me.ts";
import { repoRoutes } from "./routes/repos.ts";
import { chatRoutes } from "./routes/chats.ts";
import { boxRoutes } from "./routes/box.ts";
import { boxesRoutes, boxRegistrationRoutes } from "./routes/boxes.ts";
import { internalRoutes } from "./routes/internal.ts";
import { pushRoutes } from "./routes/push.ts";
import { scheduleRoutes } from "./routes/schedules.ts";
import { usageRoutes } from "./routes/usage.ts";

export function createApp(deps: AppDeps) {
  const app = new Hono<AppEnv>();

  app.onError((err, c) => {
    if (err instanceof ApiError) return c.json({ error: { code: err.code, message: err.message } }, err.status);
    if (err instanceof HTTPException) {
      const code = err.status === 413 ? "too_large" : err.status === 401 ? "unauthorized" : "bad_request";
      return c.json({ error: { code, message: err.message || "bad request" } }, err.status);
    }
    console.error(`error on ${c.req.method} ${c.req.path}:`, err);
    return c.json({ error: { code: "internal", message: "internal error" } }, 500);
  });
  app.notFound((c) => c.json({ error: { code: "not_found", message: `no route ${c.req.method} ${c.req.path}` } }, 404));

  app.use("*", async (c, next) => {
    c.set("deps", deps);
    c.set("db", lazy(() => deps.db(c.env)));
    await next();
  });
  app.use("/api/*", sameOrigin, requireUser);
  app.use("/auth/*", sameOrigin);

  const routes = app
    .route("/auth", authRoutes)
    .route("/internal/box", internalRoutes)
    .route("/internal/boxes", boxRegistrationRoutes)
    .route("/api/me", meRoutes)
    .route("/api/repos", repoRoutes)
    .route("/api/chats", chatRoutes)
    .route("/api/box", boxRoutes)
    .route("/api/boxes", boxesRoutes)
    .route("/api/push", pushRoutes)
    .route("/api/schedules", scheduleRoutes)
    .route("/api/usage", usageRoutes);
  return routes;
}

export type AppType = ReturnType<typeof createApp>;

/**
 * `make()` on first use. The db: building the libsql client and drizzle (its relational config) costs
 * ~0.15 ms of CPU, and the opencode pass-through mostly answers from its per-isolate caches without it.
 */
function lazy<T extends object>(make: () => T): T {
  let made: T | undefined;
  const real = () => (made ??= make());
  return new Proxy({} as T, {
    get: (_, key) => Reflect.get(real(), key),
    set: (_, key, value) => Reflect.set(real(), key, value),
    has: (_, key) => Reflect.has(real(), key),
  });
}
