import { and, asc, eq } from "drizzle-orm";
import { Hono } from "hono";
import { z } from "zod";
import { badRequest, notFound } from "../../lib/api-error.ts";
import { ulid } from "../../lib/ulid.ts";
import { validate } from "../../lib/validate.ts";
import type { AppEnv } from "../context.ts";
import { pushSubscriptions } from "../db/schema.ts";
import { fromBase64url, toBase64url } from "../push/base64url.ts";
import { vapidConfig } from "../push/config.ts";
import { testMessage } from "../push/notify.ts";
import { sendToUser } from "../push/send.ts";

/** What PushManager.subscribe() gives: an https URL, never one with credentials in it. */
function endpointUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}
const base64urlOf = (bytes: number, what: string, first?: number) =>
  z.string().max(200).refine((s) => {
    const decoded = fromBase64url(s);
    return decoded?.length === bytes && (first === undefined || decoded[0] === first);
  }, `${what} must be base64url of ${bytes} bytes`);

const subscriptionBody = z.object({
  endpoint: z.string().max(2048)
    .refine((s) => endpointUrl(s)?.protocol === "https:", "endpoint must be an https URL, as the browser's PushManager.subscribe() gives it")
    .refine((s) => !endpointUrl(s)?.username && !endpointUrl(s)?.password, "endpoint must not carry a user name or password"),
  keys: z.object({
    p256dh: base64urlOf(65, "keys.p256dh (an uncompressed P-256 point)", 4),
    auth: base64urlOf(16, "keys.auth"),
  }),
});
const idParam = z.object({ id: z.string().regex(/^[0-9A-Z]{26}$/, "id must be a ULID (26 of 0-9 A-Z)") });

/** Web Push: the VAPID public key, one subscription per device, and a test notification. */
export const pushRoutes = new Hono<AppEnv>()
  .get("/key", (c) => c.json({ publicKey: vapidConfig(c.env).publicKey }))
  .post("/subscriptions", validate("json", subscriptionBody), async (c) => {
    const { endpoint, keys } = c.req.valid("json");
    const p256dh = fromBase64url(keys.p256dh)!;
    await crypto.subtle.importKey("raw", p256dh, { name: "ECDH", namedCurve: "P-256" }, false, []).catch(() => {
      throw badRequest("keys.p256dh is not a point on the P-256 curve");
    });
    const fresh = ulid();
    const values = {
      userId: c.get("user").id,
      p256dh: toBase64url(p256dh),
      auth: toBase64url(fromBase64url(keys.auth)!),
      userAgent: c.req.header("user-agent")?.slice(0, 300) ?? null,
    };
    // One row per endpoint (a browser profile): subscribing again, or as another user on that browser, takes it over.
    const [row] = await c.get("db").insert(pushSubscriptions)
      .values({ id: fresh, endpoint, createdAt: new Date(), ...values })
      .onConflictDoUpdate({ target: pushSubscriptions.endpoint, set: values })
      .returning({ id: pushSubscriptions.id });
    return c.json({ subscription: { id: row!.id } }, row!.id === fresh ? 201 : 200);
  })
  .get("/subscriptions", async (c) => {
    const rows = await c.get("db").select().from(pushSubscriptions)
      .where(eq(pushSubscriptions.userId, c.get("user").id)).orderBy(asc(pushSubscriptions.createdAt));
    return c.json({ subscriptions: rows.map((s) => ({ id: s.id, userAgent: s.userAgent ?? undefined, createdAt: s.createdAt.toISOString() })) });
  })
  .delete("/subscriptions/:id", validate("param", idParam), async (c) => {
    const { id } = c.req.valid("param");
    const gone = await c.get("db").delete(pushSubscriptions)
      .where(and(eq(pushSubscriptions.id, id), eq(pushSubscriptions.userId, c.get("user").id)))
      .returning({ id: pushSubscriptions.id });
    if (gone.length === 0) throw notFound(`no push subscription ${id}`);
    return c.body(null, 204);
  })
  .post("/test", async (c) => c.json(await sendToUser(c.get("db"), c.env, c.get("user").id, testMessage())));
