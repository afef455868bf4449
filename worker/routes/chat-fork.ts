import { Hono } from "hono";
import type { AppEnv } from "../context.ts";

/** POST /api/chats/:id/fork: a new chat from one of this chat's checkpoints (filled by the fork work). */
export const chatForkRoutes = new Hono<AppEnv>();
