import { Hono } from "hono";
import { z } from "zod";
import { validate } from "../../lib/validate.ts";
import type { AppEnv } from "../context.ts";
import { usageByDay } from "../chats/usage.ts";

const usageQuery = z.object({
  days: z.coerce.number().int("days must be a whole number").min(1, "days must be 1 to 90").max(90, "days must be 1 to 90").default(7),
});

/** GET /api/usage?days=1..90: the signed-in user's cost and tokens per UTC day, oldest first; `today` is the last. */
export const usageRoutes = new Hono<AppEnv>().get("/", validate("query", usageQuery), async (c) => {
  const days = await usageByDay(c.get("db"), c.get("user").id, c.req.valid("query").days, new Date());
  return c.json({ days, today: days.at(-1)! }, 200);
});
