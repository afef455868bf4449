import { api, json } from "../lib/api.ts";

export type Checkpoint = { sha: string; message: string; files: string[]; filesChanged: number; pushed: boolean; createdAt: string };
type Turn = { id: string; created: number };

export const fetchCheckpoints = (chatId: string) =>
  json<{ checkpoints: Checkpoint[] }>(api.api.chats[":id"].checkpoints.$get({ param: { id: chatId } })).then((r) => r.checkpoints);

/**
 * The files as they were when a user message's run ended: the newest checkpoint made before the
 * next user message (or the newest of all, for the last one). Undefined: nothing was changed yet.
 */
export function checkpointAfter(turns: Turn[], messageId: string, checkpoints: Checkpoint[]): Checkpoint | undefined {
  const i = turns.findIndex((t) => t.id === messageId);
  if (i < 0) return undefined;
  const until = turns[i + 1]?.created ?? Number.POSITIVE_INFINITY;
  return checkpoints
    .filter((c) => Date.parse(c.createdAt) < until)
    .sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt))[0];
}

/** Starts a new chat at a checkpoint; answers the new chat's id. */
export async function forkAt(chatId: string, sha: string): Promise<string> {
  const res = await json<{ chat: { id: string } }>(api.api.chats[":id"].fork.$post({ param: { id: chatId }, json: { sha } }));
  return res.chat.id;
}
