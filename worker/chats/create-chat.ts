import { eq } from "drizzle-orm";
import { conflict } from "../../lib/api-error.ts";
import { chatBranch } from "../../lib/names.ts";
import { ulid } from "../../lib/ulid.ts";
import type { Db } from "../db/client.ts";
import { chats, prompts } from "../db/schema.ts";
import { touchRecentRepo } from "../routes/repos.ts";
import { ownChat } from "./own-chat.ts";

type ChatRow = typeof chats.$inferSelect;
type PromptFile = { mime: string; url: string; filename?: string };

export type NewChat = {
  repo: string;
  base?: string;
  model?: string;
  prompt?: { promptId?: string; text: string; files?: PromptFile[] };
  /** Defaults to the first line of the prompt. */
  title?: string;
  /** Where the chat came from: parallel attempts, a schedule's run, a GitHub issue, a checkpoint. */
  groupId?: string;
  scheduleId?: string;
  issueUrl?: string;
  forkedFrom?: string;
  /** The box it is pinned to (null or missing: the env box); the caller picks it (worker/boxes/resolve.ts). */
  boxId?: string | null;
};

/**
 * Writes a new chat (and its first prompt, in the same batch) as "queued"; the caller starts the
 * delivery. A retried create (same promptId) answers the chat the first one made, with created false.
 */
export async function createChat(db: Db, userId: string, input: NewChat): Promise<{ chat: ChatRow; created: boolean }> {
  const retried = input.prompt?.promptId ? await chatOfPrompt(db, userId, input.prompt.promptId) : undefined;
  if (retried) return { chat: retried, created: false };
  const now = new Date();
  const id = ulid(now.getTime());
  const insertChat = db.insert(chats).values({
    id, userId, boxId: input.boxId ?? null, repo: input.repo, base: input.base ?? null, branch: chatBranch(id), model: input.model ?? null,
    title: input.title ?? (input.prompt ? titleFrom(input.prompt.text) : null), status: "queued", createdAt: now, lastActivityAt: now,
    groupId: input.groupId ?? null, scheduleId: input.scheduleId ?? null, issueUrl: input.issueUrl ?? null, forkedFrom: input.forkedFrom ?? null,
  });
  try {
    if (input.prompt) {
      const { promptId, text, files } = input.prompt;
      const insertPrompt = db.insert(prompts).values({ id: promptId ?? ulid(), chatId: id, userId, text, model: input.model ?? null, files: files ?? null, state: "queued", createdAt: now });
      await db.batch([insertChat, insertPrompt]); // both or neither: no chat without its first prompt
    } else {
      await insertChat;
    }
  } catch (err) {
    const raced = input.prompt?.promptId ? await chatOfPrompt(db, userId, input.prompt.promptId) : undefined;
    if (raced) return { chat: raced, created: false };
    throw err;
  }
  await touchRecentRepo(db, userId, input.repo);
  return { chat: await ownChat(db, userId, id), created: true };
}

/** The chat a promptId already belongs to, if it is this user's; another user's promptId is a conflict. */
export async function chatOfPrompt(db: Db, userId: string, promptId: string) {
  const prompt = await db.query.prompts.findFirst({ where: eq(prompts.id, promptId) });
  if (!prompt) return undefined;
  if (prompt.userId !== userId) throw conflict(`prompt ${promptId} is taken`);
  return ownChat(db, userId, prompt.chatId);
}

export function titleFrom(text: string): string {
  const line = text.trim().split("\n")[0]!;
  return line.length > 80 ? `${line.slice(0, 77)}…` : line;
}
