import { and, asc, eq, isNull, ne } from "drizzle-orm";
import { badRequest, conflict } from "../../lib/api-error.ts";
import { ulid } from "../../lib/ulid.ts";
import type { Db } from "../db/client.ts";
import { chats } from "../db/schema.ts";
import { createChat, type NewChat } from "./create-chat.ts";
import { ownChat } from "./own-chat.ts";

type ChatRow = typeof chats.$inferSelect;

export const MAX_ATTEMPTS = 4;
/** promptIds are at most 64 characters; each attempt after the first adds "-a<n>". */
export const MAX_GROUP_PROMPT_ID = 61;

/** Attempt i's promptId, derived from the one the client sent, so a retried send finds the same chats. */
export const attemptPromptId = (promptId: string, i: number) => (i === 0 ? promptId : `${promptId}-a${i + 1}`);

/**
 * One prompt, N chats on the same repo and base, sharing a groupId; attempt i uses models[i] ?? model.
 * Retrying with the same promptId answers the same group (and completes it if the first try stopped
 * half-way); `created` lists the chats this call made, which the caller delivers.
 */
export async function createAttempts(db: Db, userId: string, input: NewChat, attempts: number, models: ReadonlyArray<string | null | undefined>) {
  let groupId = ulid();
  const rows: ChatRow[] = [];
  const created: ChatRow[] = [];
  for (let i = 0; i < attempts; i++) {
    const prompt = input.prompt && { ...input.prompt, promptId: input.prompt.promptId && attemptPromptId(input.prompt.promptId, i) };
    const made = await createChat(db, userId, { ...input, model: models[i] ?? input.model, prompt, groupId });
    if (i === 0) {
      if (!made.chat.groupId) throw conflict(`prompt ${input.prompt?.promptId} already started a single chat: send attempts with a new promptId`);
      groupId = made.chat.groupId; // a retry, or a racing twin of this request, joins the group the first one made
    }
    rows.push(made.chat);
    if (made.created) created.push(made.chat);
  }
  return { groupId, chats: rows, created };
}

/** The user's chats of one group, in attempt order. */
export function groupChats(db: Db, userId: string, groupId: string) {
  return db.select().from(chats).where(and(eq(chats.userId, userId), eq(chats.groupId, groupId))).orderBy(asc(chats.createdAt), asc(chats.id));
}

/**
 * Ships one attempt: it is (un)archived back into the list and the rest of its group is archived.
 * `boxArchive` says which chats on the box change their archived flag.
 */
export async function pickAttempt(db: Db, userId: string, id: string) {
  const chat = await ownChat(db, userId, id);
  if (!chat.groupId) throw badRequest(`chat ${id} is not one of a group of attempts`);
  const before = await groupChats(db, userId, chat.groupId);
  await db.batch([
    db.update(chats).set({ archivedAt: null }).where(eq(chats.id, chat.id)),
    db.update(chats).set({ archivedAt: new Date() })
      .where(and(eq(chats.userId, userId), eq(chats.groupId, chat.groupId), ne(chats.id, chat.id), isNull(chats.archivedAt))),
  ]);
  const others = before.filter((c) => c.id !== chat.id);
  const boxArchive = [
    ...(chat.archivedAt && chat.sessionId ? [{ id: chat.id, archived: false }] : []),
    ...others.filter((c) => c.archivedAt === null && c.sessionId).map((c) => ({ id: c.id, archived: true })),
  ];
  return { chat: await ownChat(db, userId, id), archived: others.map((c) => c.id), boxArchive };
}
