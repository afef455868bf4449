import { and, desc, eq, isNotNull, isNull } from "drizzle-orm";
import { LRUCache } from "lru-cache";
import { z } from "zod";
import { ApiError, badRequest, notFound } from "../../lib/api-error.ts";
import { decryptSecret } from "../auth/crypto.ts";
import { boxClient, type BoxClient, type BoxTarget, ENV_BOX_ID, envBox } from "../box/client.ts";
import type { Db } from "../db/client.ts";
import { boxes, chats } from "../db/schema.ts";
import type { Env } from "../env.ts";

/** What reaching a box takes: the db (registered boxes), the env (the env box, SESSION_SECRET) and a fetch. */
export type BoxScope = { db: Db; env: Env; fetch?: typeof fetch };
type BoxRow = typeof boxes.$inferSelect;

export const boxIdSchema = z.union([z.literal(ENV_BOX_ID), z.string().regex(/^[0-9A-Z]{26}$/)], { error: `a box id is "${ENV_BOX_ID}" or a ULID (26 of 0-9 A-Z)` });

/** The opencode pass-through's per-isolate cache: a retired box may pass there for up to 10 s elsewhere. */
const targets = new LRUCache<string, BoxTarget>({ max: 500, ttl: 10_000 });
export const forgetBox = (id: string) => targets.delete(id);

export async function targetOf(env: Env, row: BoxRow): Promise<BoxTarget> {
  // A token sealed under another SESSION_SECRET reads as none: the box then refuses us and says to register again.
  const token = row.tokenEnc ? await decryptSecret(env.SESSION_SECRET, row.tokenEnc).catch(() => "") : "";
  return { id: row.id, name: row.name, url: row.url, token, retired: row.retiredAt !== null };
}

async function registeredTarget(scope: BoxScope, id: string, cached: boolean): Promise<BoxTarget> {
  const hit = cached ? targets.get(id) : undefined;
  if (hit) return hit;
  const row = await scope.db.query.boxes.findFirst({ where: eq(boxes.id, id) });
  // Box rows are retired, never deleted; a missing one can only be treated the same way.
  const target = row ? await targetOf(scope.env, row) : { id, name: id, url: null, token: "", retired: true };
  targets.set(id, target);
  return target;
}

/** The box a chat is pinned to (chats.boxId null: the env box). */
export async function boxForChat(scope: BoxScope, chat: { boxId: string | null }, opts: { cached?: boolean } = {}): Promise<BoxClient> {
  if (!chat.boxId) return boxClient(envBox(scope.env), scope.fetch);
  return boxClient(await registeredTarget(scope, chat.boxId, opts.cached ?? false), scope.fetch);
}

/** The chat's box, refused at once when it was retired (before anything is written for it). */
export async function liveBoxForChat(scope: BoxScope, chat: { boxId: string | null }): Promise<BoxClient> {
  const box = await boxForChat(scope, chat);
  if (box.retired) throw new ApiError(409, "box_retired", `this chat's box "${box.name}" was retired: the chat stays listed but can no longer run`);
  return box;
}

/** One client per chats.boxId, made once per resolver: for the outbox and the cron, which go over many chats. */
export function boxResolver(scope: BoxScope) {
  const made = new Map<string, Promise<BoxClient>>();
  return (boxId: string | null): Promise<BoxClient> => {
    const key = boxId ?? "";
    if (!made.has(key)) made.set(key, boxForChat(scope, { boxId }));
    return made.get(key)!;
  };
}
export type BoxFor = ReturnType<typeof boxResolver>;

/** A box of the user's by its API id; the env box is everyone's. */
export async function boxById(scope: BoxScope, userId: string, id: string): Promise<BoxClient> {
  if (id === ENV_BOX_ID) {
    if (!scope.env.BOX_URL) throw notFound("no default box is configured (BOX_URL)");
    return boxClient(envBox(scope.env), scope.fetch);
  }
  const row = await scope.db.query.boxes.findFirst({ where: and(eq(boxes.id, id), eq(boxes.userId, userId)) });
  if (!row) throw notFound(`no box ${id}`);
  if (!row.tokenEnc && !row.retiredAt) throw new ApiError(409, "box_not_registered", `box "${row.name}" has not registered yet: start it with its registration key first`);
  return boxClient(await targetOf(scope.env, row), scope.fetch);
}

/** The user's registered box seen most recently (never-seen ones last), if any is live. */
async function latestLiveBox(db: Db, userId: string): Promise<BoxRow | undefined> {
  return db.query.boxes.findFirst({
    where: and(eq(boxes.userId, userId), isNull(boxes.retiredAt), isNotNull(boxes.tokenEnc)),
    orderBy: [desc(boxes.lastSeenAt), desc(boxes.createdAt)],
  });
}

/** The API id of the box new chats go to by default: the env box when configured, else the latest live one. */
export async function defaultBoxId(scope: BoxScope, userId: string): Promise<string | undefined> {
  if (scope.env.BOX_URL) return ENV_BOX_ID;
  return (await latestLiveBox(scope.db, userId))?.id;
}

/**
 * chats.boxId for a new chat: the box asked for, which must be live and registered, or the default.
 * Null is the env box (also when no box exists yet: the chat waits in the outbox).
 */
export async function newChatBoxId(scope: BoxScope, userId: string, requested?: string): Promise<string | null> {
  if (requested === undefined) {
    const id = await defaultBoxId(scope, userId);
    return id === undefined || id === ENV_BOX_ID ? null : id;
  }
  if (requested === ENV_BOX_ID) {
    if (!scope.env.BOX_URL) throw badRequest("no default box is configured (BOX_URL): pick one of your boxes");
    return null;
  }
  const row = await scope.db.query.boxes.findFirst({ where: and(eq(boxes.id, requested), eq(boxes.userId, userId)) });
  if (!row) throw badRequest(`no box ${requested}`);
  if (row.retiredAt) throw badRequest(`box "${row.name}" was retired: pick another box`);
  if (!row.tokenEnc) throw badRequest(`box "${row.name}" has not registered yet: start it with its registration key first`);
  return row.id;
}

/** The box the dashboard shows: the one asked for, else the env box, else the user's latest live box. */
export async function dashboardBox(scope: BoxScope, userId: string, requested?: string): Promise<BoxClient> {
  const id = requested ?? (await defaultBoxId(scope, userId)) ?? ENV_BOX_ID;
  if (id === ENV_BOX_ID && !scope.env.BOX_URL) return boxClient(envBox(scope.env), scope.fetch); // answers "no box is configured"
  return boxById(scope, userId, id);
}

/** chats.boxId = boxId, where null is the env box. */
export const onBox = (boxId: string | null) => (boxId === null ? isNull(chats.boxId) : eq(chats.boxId, boxId));
