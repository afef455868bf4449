import { Hono } from "hono";
import type { AppEnv } from "../context.ts";

/** GET /api/usage: cost and tokens per day (filled by the cost work). */
export const usageRoutes = new Hono<AppEnv>();
