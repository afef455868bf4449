import { and, asc, eq, inArray, isNull, lt, or } from "drizzle-orm";
import { ApiError, badRequest, conflict, notFound } from "../../lib/api-error.ts";
import { ulid } from "../../lib/ulid.ts";
import { encryptSecret, randomToken, sha256Hex } from "../auth/crypto.ts";
import { ENV_BOX_ID } from "../box/client.ts";
import type { Db } from "../db/client.ts";
import { boxes, chats, prompts } from "../db/schema.ts";
import { forgetBox } from "./resolve.ts";

type BoxRow = typeof boxes.$inferSelect;

export const KEY_TTL_MS = 24 * 60 * 60 * 1000;
const MAX_LIVE_BOXES = 20;
const SEEN_EVERY_MS = 30_000;

/** A new box, waiting for its machine: the registration key is answered once; only its SHA-256 is kept. */
export async function createBox(db: Db, userId: string, name: string) {
  const live = await db.select({ id: boxes.id }).from(boxes).where(and(eq(boxes.userId, userId), isNull(boxes.retiredAt)));
  if (live.length >= MAX_LIVE_BOXES) throw conflict(`you have ${live.length} boxes: retire one before adding another`);
  const registrationKey = `ocwebreg_${randomToken(32)}`;
  const row = { id: ulid(), userId, name, registrationKeyHash: await sha256Hex(registrationKey), createdAt: new Date() };
  await db.insert(boxes).values(row);
  return { box: { id: row.id, name }, registrationKey };
}

/**
 * A machine claims its box with the key: it gets a fresh secret (its bearer and webhook key, kept
 * encrypted under SESSION_SECRET). A key works once, within 24 h, and never for a retired box.
 */
export async function registerBox(db: Db, secret: string, input: { key: string; url: string }, now = new Date()) {
  const row = await db.query.boxes.findFirst({ where: eq(boxes.registrationKeyHash, await sha256Hex(input.key)) });
  if (!row) throw new ApiError(401, "unknown_key", "unknown registration key: add a box in ocweb (Box → Add a box) and start the box with the key it shows");
  const newKey = "add a new box in ocweb for a new key";
  if (row.retiredAt) throw new ApiError(410, "box_retired", `box "${row.name}" was retired: ${newKey}`);
  if (row.tokenEnc) throw new ApiError(409, "key_used", `this registration key was already used (box "${row.name}" is registered): ${newKey}`);
  if (now.getTime() - row.createdAt.getTime() > KEY_TTL_MS) throw new ApiError(410, "key_expired", `this registration key expired (keys last 24 hours): ${newKey}`);
  const token = randomToken(32);
  const claimed = await db.update(boxes)
    .set({ url: input.url, tokenEnc: await encryptSecret(secret, token), lastSeenAt: now })
    .where(and(eq(boxes.id, row.id), isNull(boxes.tokenEnc), isNull(boxes.retiredAt)))
    .returning({ id: boxes.id });
  if (claimed.length === 0) throw new ApiError(409, "key_used", `this registration key was already used (box "${row.name}" is registered): ${newKey}`);
  forgetBox(row.id);
  return { boxId: row.id, name: row.name, token };
}

/**
 * Retires a box: its token is dropped, so its calls and webhooks are refused. Its chats stay listed;
 * none is left reading "working" or "queued", and no prompt waits for it any more.
 */
export async function retireBox(db: Db, userId: string, id: string): Promise<BoxRow> {
  if (id === ENV_BOX_ID) throw badRequest("the default box comes from the worker's environment (BOX_URL): remove it there");
  const row = await db.query.boxes.findFirst({ where: and(eq(boxes.id, id), eq(boxes.userId, userId)) });
  if (!row) throw notFound(`no box ${id}`);
  if (row.retiredAt) return row;
  const why = `its box "${row.name}" was retired`;
  const onIt = db.select({ id: chats.id }).from(chats).where(eq(chats.boxId, id));
  const [[retired]] = await db.batch([
    db.update(boxes).set({ retiredAt: new Date(), tokenEnc: null }).where(eq(boxes.id, id)).returning(),
    db.update(chats).set({ status: "interrupted", error: why, needsYou: false }).where(and(eq(chats.boxId, id), eq(chats.status, "busy"))),
    db.update(chats).set({ status: "error", error: why }).where(and(eq(chats.boxId, id), eq(chats.status, "queued"))),
    db.update(prompts).set({ state: "failed", error: why }).where(and(eq(prompts.state, "queued"), inArray(prompts.chatId, onIt))),
  ]);
  forgetBox(id);
  return retired!;
}

export function userBoxes(db: Db, userId: string): Promise<BoxRow[]> {
  return db.select().from(boxes).where(eq(boxes.userId, userId)).orderBy(asc(boxes.createdAt), asc(boxes.id));
}

/** A webhook came from the box: lastSeenAt moves, at most every 30 s (one write, no read). */
export async function markSeen(db: Db, id: string, now = new Date()) {
  await db.update(boxes).set({ lastSeenAt: now })
    .where(and(eq(boxes.id, id), or(isNull(boxes.lastSeenAt), lt(boxes.lastSeenAt, new Date(now.getTime() - SEEN_EVERY_MS)))));
}

/** The box moved (a new tunnel URL after a restart): it says so in its signed hello. */
export async function moveBox(db: Db, id: string, url: string) {
  await db.update(boxes).set({ url }).where(and(eq(boxes.id, id), isNull(boxes.retiredAt)));
  forgetBox(id);
}

/** A box's URL: https anywhere, plain http only on loopback (a box on the same machine). */
export function isBoxUrl(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if (url.username || url.password || url.search || url.hash) return false;
  if (url.protocol === "https:") return true;
  return url.protocol === "http:" && ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);
}
