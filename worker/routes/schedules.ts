import { Hono } from "hono";
import type { AppEnv } from "../context.ts";

/** Scheduled prompts: CRUD, next-run preview, run history, pause/resume (filled by the schedules work). */
export const scheduleRoutes = new Hono<AppEnv>();
