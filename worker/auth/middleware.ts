import type { MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import { forbidden, unauthorized } from "../../lib/api-error.ts";
import type { AppEnv } from "../context.ts";
import { SESSION_COOKIE, sessionUser } from "./session.ts";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** Sets `user` from the session cookie, or answers 401. */
export const requireUser: MiddlewareHandler<AppEnv> = async (c, next) => {
  const value = getCookie(c, SESSION_COOKIE);
  if (!value || value.length > 128) throw unauthorized();
  const user = await sessionUser(c.get("db"), value, { cached: c.req.path.startsWith("/api/box/oc/") });
  if (!user) throw unauthorized("session expired or signed out: sign in again");
  c.set("user", user);
  await next();
};

/** State-changing requests must carry an Origin equal to this request's own origin (CSRF guard). */
export const sameOrigin: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (SAFE_METHODS.has(c.req.method)) return next();
  const origin = c.req.header("origin");
  if (!origin || origin !== new URL(c.req.url).origin) throw forbidden("cross-site request refused");
  await next();
};
