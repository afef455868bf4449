import { and, eq, isNotNull } from "drizzle-orm";
import type { Context } from "hono";
import { background } from "../background.ts";
import { type BoxClient, ENV_BOX_ID } from "../box/client.ts";
import { boxResolver, defaultBoxId, onBox } from "../boxes/resolve.ts";
import { boxScope, type AppEnv } from "../context.ts";
import { chats } from "../db/schema.ts";
import { notifyChat, statusNoticeKind } from "../push/notify.ts";
import { deliverPending } from "./outbox.ts";

type BoxChatStatus = { chatId: string; status: string; error?: string };
type Mine = { id: string; status: string; boxId: string | null };
export type BoxStatus = "ok" | "unreachable";
const PROBE_TIMEOUT_MS = 2_000;

/**
 * Lists answer from Turso; each box that answers quickly (side by side, one down box delays none)
 * writes back the statuses it knows better (webhooks can be missed), and the user's outbox is
 * retried. `only` narrows it to one box (a chat's). Answers what to tell the UI: `box` is "ok" when
 * every live box asked answered, `boxes` per API box id.
 */
export async function syncStatusesFromBox(c: Context<AppEnv>, only?: { boxId: string | null }): Promise<{ box: BoxStatus; boxes: Record<string, BoxStatus> }> {
  const db = c.get("db");
  const userId = c.get("user").id;
  // Read ours before asking the boxes, then compare-and-set: a status written meanwhile (by the
  // outbox or a webhook) is newer than a box's answer and must not be overwritten by it.
  const mine = await db.select({ id: chats.id, status: chats.status, boxId: chats.boxId }).from(chats)
    .where(and(eq(chats.userId, userId), isNotNull(chats.sessionId), only ? onBox(only.boxId) : undefined));
  const ids = new Set<string | null>(only ? [only.boxId] : mine.map((r) => r.boxId));
  if (!only) {
    const fallback = await defaultBoxId(boxScope(c), userId);
    ids.add(fallback === undefined || fallback === ENV_BOX_ID ? null : fallback);
  }
  const boxFor = boxResolver(boxScope(c));
  const results = await Promise.all([...ids].map(async (boxId) => {
    const box = await boxFor(boxId);
    const ok = box.configured && (await syncBox(c, box, mine.filter((r) => r.boxId === boxId)));
    return { box, ok };
  }));
  const live = results.filter((r) => !r.box.retired);
  if (live.some((r) => r.ok)) background(c, deliverPending(db, boxFor, { userId }), "outbox");
  return {
    box: live.length > 0 && live.every((r) => r.ok) ? "ok" : "unreachable",
    boxes: Object.fromEntries(results.map((r) => [r.box.id, r.ok ? "ok" : "unreachable"])),
  };
}

async function syncBox(c: Context<AppEnv>, box: BoxClient, mine: Mine[]): Promise<boolean> {
  const db = c.get("db");
  const live = await box.call<{ chats: BoxChatStatus[] }>("GET", "/mgmt/chats", undefined, PROBE_TIMEOUT_MS).catch(() => undefined);
  if (!live) return false;
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
  return true;
}
