import { and, asc, eq, inArray, isNull, lt, or, sql } from "drizzle-orm";
import { ApiError } from "../../lib/api-error.ts";
import { type BoxClient, ENV_BOX_ID } from "../box/client.ts";
import { type BoxFor, onBox } from "../boxes/resolve.ts";
import type { Db } from "../db/client.ts";
import { chats, prompts } from "../db/schema.ts";

type BoxChat = { worktree: string; sessionId: string; base: string; baseCommit: string; branch: string; status: string };
const CREATE_TIMEOUT_MS = 120_000; // a first clone of a large repo
const LEASE_MS = CREATE_TIMEOUT_MS + 30_000;

/**
 * Delivers one chat's outbox: creates the chat on the box if it is not there yet, then sends every
 * queued prompt in order, until none is left. One delivery per chat at a time (a lease row in
 * Turso): concurrent ones would race the box's answers. Repeats are still safe: the box is
 * idempotent on chatId and keeps a promptId ledger, so a second send is a "duplicate", not a run.
 */
export async function deliverChat(db: Db, box: BoxClient, chatId: string): Promise<void> {
  const now = new Date();
  const leased = await db.update(chats)
    .set({ deliveryLeaseUntil: new Date(now.getTime() + LEASE_MS) })
    .where(and(eq(chats.id, chatId), or(isNull(chats.deliveryLeaseUntil), lt(chats.deliveryLeaseUntil, now))))
    .returning({ id: chats.id });
  if (leased.length === 0) return; // another delivery holds it and will send what is queued
  try {
    while (await deliverOnce(db, box, chatId)) { /* prompts were added while sending: go again */ }
  } finally {
    await db.update(chats).set({ deliveryLeaseUntil: null }).where(eq(chats.id, chatId));
  }
}

/** One pass over the outbox; true when it sent everything it saw and more may have arrived. */
async function deliverOnce(db: Db, box: BoxClient, chatId: string): Promise<boolean> {
  const chat = await db.query.chats.findFirst({ where: eq(chats.id, chatId) });
  if (!chat || (chat.status === "error" && !chat.sessionId)) return false;
  if ((chat.boxId ?? ENV_BOX_ID) !== box.id) throw new Error(`chat ${chatId} is on box ${chat.boxId ?? ENV_BOX_ID}, not ${box.id}`);
  if (!chat.sessionId) {
    try {
      const fromCommit = chat.forkedFrom?.split("@")[1];
      const body = { chatId, repo: chat.repo, ...(chat.base ? { base: chat.base } : {}), ...(fromCommit ? { fromCommit } : {}) };
      const made = await box.call<BoxChat>("POST", "/mgmt/chats", body, CREATE_TIMEOUT_MS);
      // Written as compare-and-set all the same (a lease can expire): the row is filled once, and
      // status only leaves "queued" here; later statuses come from sends, webhooks and syncs.
      await db.batch([
        db.update(chats)
          .set({ sessionId: made.sessionId, directory: made.worktree, base: made.base, baseCommit: made.baseCommit, branch: made.branch })
          .where(and(eq(chats.id, chatId), isNull(chats.sessionId))),
        db.update(chats).set({ status: made.status }).where(and(eq(chats.id, chatId), eq(chats.status, "queued"))),
      ]);
    } catch (err) {
      if (!isRefusal(err)) return false; // the box is away: stays queued
      await db.update(chats).set({ status: "error", error: (err as Error).message }).where(eq(chats.id, chatId));
      await db.update(prompts).set({ state: "failed", error: `chat could not start: ${(err as Error).message}` })
        .where(and(eq(prompts.chatId, chatId), eq(prompts.state, "queued")));
      return false;
    }
  }
  // Ids first, then one row at a time: attachments make rows big, and libsql caps an answer at 10 MB.
  const queued = await db.select({ id: prompts.id }).from(prompts).where(and(eq(prompts.chatId, chatId), eq(prompts.state, "queued"))).orderBy(asc(prompts.createdAt));
  for (const { id } of queued) {
    const p = await db.query.prompts.findFirst({ where: and(eq(prompts.id, id), eq(prompts.state, "queued")) });
    if (!p) continue;
    await db.update(prompts).set({ attempts: sql`${prompts.attempts} + 1` }).where(eq(prompts.id, p.id));
    try {
      const body = { promptId: p.id, text: p.text, ...(p.model ? { model: p.model } : {}), ...(p.files?.length ? { files: p.files } : {}) };
      const answer = await box.call<{ state: "sent" | "queued" | "duplicate" }>("POST", `/mgmt/chats/${chatId}/prompts`, body);
      // One batch: a reader must never see the prompt sent while the chat still reads idle.
      const markSent = db.update(prompts).set({ state: "sent", sentAt: new Date(), error: null }).where(eq(prompts.id, p.id));
      if (answer.state === "sent") await db.batch([markSent, db.update(chats).set({ status: "busy", lastActivityAt: new Date() }).where(eq(chats.id, chatId))]);
      else await markSent;
    } catch (err) {
      if (!isRefusal(err)) return false;
      await db.update(prompts).set({ state: "failed", error: (err as Error).message }).where(eq(prompts.id, p.id));
    }
  }
  return queued.length > 0;
}

/**
 * Every chat with something in its outbox (oldest first, bounded per run), box by box side by side:
 * a box that is down (a failed /healthz) is skipped, and a slow one holds up only its own chats.
 */
export async function deliverPending(db: Db, boxFor: BoxFor, opts: { userId?: string; boxId?: string | null; limit?: number } = {}): Promise<void> {
  const waiting = db.select({ chatId: prompts.chatId }).from(prompts).where(eq(prompts.state, "queued"));
  const rows = await db
    .select({ id: chats.id, boxId: chats.boxId })
    .from(chats)
    .where(and(
      or(eq(chats.status, "queued"), inArray(chats.id, waiting)),
      opts.userId ? eq(chats.userId, opts.userId) : undefined,
      opts.boxId === undefined ? undefined : onBox(opts.boxId),
    ))
    .orderBy(asc(chats.createdAt))
    .limit(opts.limit ?? 25);
  const byBox = new Map<string | null, typeof rows>();
  for (const row of rows) byBox.set(row.boxId, [...(byBox.get(row.boxId) ?? []), row]);
  await Promise.all([...byBox].map(async ([boxId, list]) => {
    try {
      const box = await boxFor(boxId);
      // A retired box's chats go through: what still waits for it fails, saying why.
      if (!box.retired && !(box.configured && (await box.healthy()))) return;
      for (const row of list) await deliverChat(db, box, row.id);
    } catch (err) {
      console.error(`outbox of box ${boxId ?? ENV_BOX_ID}:`, err);
    }
  }));
}

/** The box understood and said no (4xx): retrying will not help. Anything else: try again later. */
function isRefusal(err: unknown): boolean {
  return err instanceof ApiError && err.status >= 400 && err.status < 500;
}
