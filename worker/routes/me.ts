import { Hono } from "hono";
import type { AppEnv } from "../context.ts";

export const meRoutes = new Hono<AppEnv>().get("/", (c) => {
  const { id, login, name, avatarUrl } = c.get("user");
  return c.json({ user: { id, login, ...(name ? { name } : {}), ...(avatarUrl ? { avatarUrl } : {}) } }, 200);
});
