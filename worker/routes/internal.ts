import { and, eq, ne, sql } from "drizzle-orm";
import { Hono } from "hono";
import { z } from "zod";
import { ApiError, forbidden } from "../../lib/api-error.ts";
import { verifySignature } from "../../lib/signature.ts";
import { background } from "../background.ts";
import { isBoxUrl, markSeen, moveBox } from "../boxes/registry.ts";
import { boxResolver, targetOf } from "../boxes/resolve.ts";
import type { AppEnv } from "../context.ts";
import type { Db } from "../db/client.ts";
import { boxes, chats, checkpoints } from "../db/schema.ts";
import { deliverPending } from "../chats/outbox.ts";
import { recordUsage } from "../chats/usage.ts";
import { needsYouDetail, notifyChat, statusRule, type ChatNotice } from "../push/notify.ts";

const MAX_BODY = 256 * 1024;
const boxEvent = z.looseObject({
  type: z.string().max(64),
  chatId: z.string().regex(/^[0-9A-Z]{26}$/).optional(),
  status: z.enum(["idle", "busy", "error", "interrupted"]).optional(),
  error: z.string().max(10_000).optional(),
  sha: z.string().regex(/^[0-9a-f]{40,64}$/).optional(),
  filesChanged: z.number().int().min(0).optional(),
  pushed: z.boolean().optional(),
  at: z.number().optional(),
  usage: z.object({ cost: z.number().min(0), tokensIn: z.number().int().min(0), tokensOut: z.number().int().min(0) }).optional(),
});

const hello = z.looseObject({ box: z.looseObject({ url: z.string().max(500).optional() }).optional() });
/** Which box sent the webhook: chats.boxId (null: the env box). */
type WebhookEnv = AppEnv & { Variables: { fromBox: string | null } };

/**
 * Box → worker webhooks, HMAC-signed (lib/signature.ts): a registered box names itself in
 * `x-ocweb-box` and signs with its own token; the env box sends no such header and signs with
 * BOX_TOKEN. A bad signature, or an unknown or retired box, is 401.
 */
export const internalRoutes = new Hono<WebhookEnv>()
  .use("*", async (c, next) => {
    const body = await c.req.text();
    if (body.length > MAX_BODY) throw new ApiError(413, "too_large", "webhook body too large");
    const from = c.req.header("x-ocweb-box");
    const key = from === undefined ? (c.env.BOX_TOKEN ?? "") : await registeredKey(c.get("db"), c.env, from);
    const ok = await verifySignature(key, c.req.header("x-ocweb-signature"), body);
    if (!ok) throw new ApiError(401, "unauthorized", from === undefined ? "bad or stale signature" : "bad or stale signature, or an unknown or retired box");
    c.set("fromBox", from ?? null);
    if (from) background(c, markSeen(c.get("db"), from), `seen ${from}`);
    await next();
  })
  .post("/events", async (c) => {
    const parsed = boxEvent.safeParse(parseJson(await c.req.text()));
    if (!parsed.success) throw new ApiError(400, "bad_request", "not a box event");
    if (!(await fromChatsBox(c.get("db"), parsed.data.chatId, c.get("fromBox")))) throw forbidden("that chat is not on this box");
    const notice = await applyBoxEvent(c.get("db"), parsed.data);
    if (notice && !notice.chat.muted) background(c, notifyChat(c.get("db"), c.env, notice), `push ${notice.kind} ${notice.chat.id}`);
    return c.body(null, 204);
  })
  .post("/hello", async (c) => {
    const from = c.get("fromBox");
    const url = hello.safeParse(parseJson(await c.req.text())).data?.box?.url?.replace(/\/+$/, "");
    if (from && url && isBoxUrl(url)) await moveBox(c.get("db"), from, url); // a new tunnel URL after a restart
    background(c, deliverPending(c.get("db"), boxResolver({ db: c.get("db"), env: c.env, fetch: c.get("deps").boxFetch }), { boxId: from, limit: 100 }), "outbox after hello");
    return c.body(null, 204);
  });

/** A registered box's webhook key; "" (no signature matches it) for an unknown or retired box. */
async function registeredKey(db: Db, env: AppEnv["Bindings"], id: string): Promise<string> {
  if (!/^[0-9A-Z]{26}$/.test(id)) return "";
  const row = await db.query.boxes.findFirst({ where: eq(boxes.id, id) });
  if (!row || row.retiredAt || !row.tokenEnc) return "";
  return (await targetOf(env, row)).token;
}

/** Whether an event is about a chat of the box that sent it (an unknown chat changes nothing anyway). */
async function fromChatsBox(db: Db, chatId: string | undefined, from: string | null): Promise<boolean> {
  if (!chatId) return true;
  const chat = await db.query.chats.findFirst({ columns: { boxId: true }, where: eq(chats.id, chatId) });
  return !chat || chat.boxId === from;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Writes what the box reports; answers the push it is worth, if any. Status and needs-you changes are
 * compare-and-set, so of two deliveries of one change (a retried webhook, the list sync) one notifies.
 */
export async function applyBoxEvent(db: Db, e: z.infer<typeof boxEvent>): Promise<ChatNotice | undefined> {
  if (!e.chatId) return;
  const now = new Date(e.at ?? Date.now());
  if (e.type === "chat.status" && e.status) {
    const set = { status: e.status, error: e.error ?? null, needsYou: false, lastActivityAt: now };
    const rule = statusRule(e.status);
    const from = rule?.onlyFrom ? eq(chats.status, rule.onlyFrom) : ne(chats.status, e.status);
    const [moved] = rule ? await db.update(chats).set(set).where(and(eq(chats.id, e.chatId), from)).returning() : [];
    if (!moved) await db.update(chats).set(set).where(eq(chats.id, e.chatId));
    if (e.usage) await recordUsage(db, e.chatId, e.usage, now);
    return moved && rule ? { kind: rule.kind, chat: moved } : undefined;
  }
  if (e.type === "permission.asked" || e.type === "question.asked") {
    const [asked] = await db.update(chats).set({ needsYou: true, lastActivityAt: now }).where(and(eq(chats.id, e.chatId), eq(chats.needsYou, false))).returning();
    if (asked) return { kind: "needs_you", chat: asked, detail: needsYouDetail(e.type, e.request) };
    await db.update(chats).set({ lastActivityAt: now }).where(eq(chats.id, e.chatId));
  }
  if (e.type === "chat.checkpoint" && e.sha) {
    const chat = await db.query.chats.findFirst({ where: eq(chats.id, e.chatId) });
    if (!chat) return;
    await db.insert(checkpoints).values({ sha: e.sha, chatId: e.chatId, message: "", filesChanged: e.filesChanged ?? 0, pushed: e.pushed ?? false, createdAt: now }).onConflictDoNothing();
    await db.update(chats).set({ lastActivityAt: now, filesChanged: sql`max(${chats.filesChanged}, ${e.filesChanged ?? 0})` }).where(eq(chats.id, e.chatId));
  }
  return undefined;
}
