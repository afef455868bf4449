import { Hono } from "hono";
import type { AppEnv } from "../context.ts";

/** Web Push: VAPID public key, subscriptions per device, test notification (filled by the push work). */
export const pushRoutes = new Hono<AppEnv>();
