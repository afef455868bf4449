import { and, eq, isNotNull } from "drizzle-orm";
import type { Context } from "hono";
import { background } from "../background.ts";
import { boxClient } from "../box/client.ts";
import type { AppEnv } from "../context.ts";
import { chats } from "../db/schema.ts";
import { notifyChat, statusNoticeKind } from "../push/notify.ts";
import { deliverPending } from "./outbox.ts";

type BoxChatStatus = { chatId: string; status: string; error?: string };
const PROBE_TIMEOUT_MS = 2_000;

/**
 * Lists answer from Turso; when the box answers quickly, statuses it knows better are written back
 * (webhooks can be missed) and the user's outbox is retried. Returns what to tell the UI.
 */
export async function syncStatusesFromBox(c: Context<AppEnv>): Promise<"ok" | "unreachable"> {
  const box = boxClient(c.env, c.get("deps").boxFetch);
  if (!box.configured) return "unreachable";
  const db = c.get("db");
  const userId = c.get("user").id;
  // Read ours before asking the box, then compare-and-set: a status written meanwhile (by the
  // outbox or a webhook) is newer than the box's answer and must not be overwritten by it.
  const mine = await db.select({ id: chats.id, status: chats.status }).from(chats).where(and(eq(chats.userId, userId), isNotNull(chats.sessionId)));
  const live = await box.call<{ chats: BoxChatStatus[] }>("GET", "/mgmt/chats", undefined, PROBE_TIMEOUT_MS).catch(() => undefined);
  if (!live) return "unreachable";
  const known = new Map(live.chats.map((b) => [b.chatId, b]));
  for (const row of mine) {
    const b = known.get(row.id);
    if (!b || b.status === row.status) continue;
    const [moved] = await db.update(chats)
      .set({ status: b.status, error: b.error ?? null, ...(b.status === "busy" ? {} : { needsYou: false }) })
      .where(and(eq(chats.id, row.id), eq(chats.status, row.status)))
      .returning();
    // A missed webhook's push: the compare-and-set above and the webhook's own make exactly one of them send it.
    const kind = moved ? statusNoticeKind(row.status, b.status) : undefined;
    if (moved && kind && !moved.muted) background(c, notifyChat(db, c.env, { kind, chat: moved }), `push ${kind} ${row.id}`);
  }
  background(c, deliverPending(db, box, { userId }), "outbox");
  return "ok";
}
