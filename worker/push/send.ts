import { buildPushPayload } from "@block65/webcrypto-web-push";
import { eq, inArray } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { pushSubscriptions } from "../db/schema.ts";
import type { Env } from "../env.ts";
import { vapidConfig, type VapidConfig } from "./config.ts";

export type PushKind = "done" | "needs_you" | "error" | "interrupted" | "pr" | "test";
/** What the service worker receives (JSON, decrypted by the browser). */
export type PushPayload = { kind: PushKind; chatId?: string; title: string; body: string; url: string; tag: string };
/** RFC 8030 §5: how long the push service keeps it for an offline device, how soon to wake one, and which older message it replaces. */
export type PushMessage = { payload: PushPayload; ttlSeconds: number; urgency: "low" | "normal" | "high"; topic?: string };
export type SendResult = { sent: number; removed: number };
type Subscription = typeof pushSubscriptions.$inferSelect;
type Outcome = "sent" | "gone" | "failed";

const SEND_TIMEOUT_MS = 10_000;

/** Sends one message to every device of the user; a 404/410 from a push service removes that device. */
export async function sendToUser(db: Db, env: Env, userId: string, message: PushMessage): Promise<SendResult> {
  const config = vapidConfig(env);
  const subs = await db.select().from(pushSubscriptions).where(eq(pushSubscriptions.userId, userId));
  const outcomes = await Promise.all(subs.map((sub) => sendOne(config, sub, message).catch((err: unknown): Outcome => {
    console.error(`push to ${new URL(sub.endpoint).origin} failed:`, err);
    return "failed";
  })));
  const gone = subs.filter((_, i) => outcomes[i] === "gone").map((s) => s.id);
  if (gone.length > 0) await db.delete(pushSubscriptions).where(inArray(pushSubscriptions.id, gone));
  return { sent: outcomes.filter((o) => o === "sent").length, removed: gone.length };
}

/** aes128gcm body (RFC 8291, padded to one 4096-byte record) and VAPID authorization (RFC 8292) by @block65/webcrypto-web-push. */
async function sendOne(vapid: VapidConfig, sub: Subscription, message: PushMessage): Promise<Outcome> {
  const subscription = { endpoint: sub.endpoint, expirationTime: null, keys: { p256dh: sub.p256dh, auth: sub.auth } };
  const options = { ttl: message.ttlSeconds, urgency: message.urgency, ...(message.topic ? { topic: message.topic } : {}) };
  const { method, headers, body } = await buildPushPayload({ data: JSON.stringify(message.payload), options }, subscription, vapid);
  // The library sends `ttl || 60`, so a TTL of 0 ("deliver now or drop") is set here.
  const res = await fetch(sub.endpoint, { method, headers: { ...headers, ttl: String(message.ttlSeconds) }, body, signal: AbortSignal.timeout(SEND_TIMEOUT_MS) });
  const detail = (await res.text().catch(() => "")).slice(0, 200);
  if (res.status === 404 || res.status === 410) return "gone";
  if (res.ok) return "sent";
  // The endpoint is a bearer capability: log its origin only.
  console.error(`push to ${new URL(sub.endpoint).origin} answered ${res.status}: ${detail}`);
  return "failed";
}
