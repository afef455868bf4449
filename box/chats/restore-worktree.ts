import { addWorktree } from "../git/worktrees.ts";
import { existsSync } from "node:fs";
import { exists } from "../lib/exists.ts";
import type { Chat } from "./chat-store.ts";
import type { ChatDeps } from "./deps.ts";

/**
 * Disk GC removes the worktrees of archived chats; the branch stays, so it is checked out again
 * before opencode works in it or even reads it: opencode given a directory that is gone opens it
 * as the shared `global` project rooted at `/`. Call while holding the chat's lock.
 */
export async function restoreWorktree(deps: ChatDeps, chat: Chat): Promise<void> {
  if (await exists(chat.worktree)) return;
  deps.log(`chat ${chat.chatId}: worktree was removed; checking out ${chat.branch} again`);
  await addWorktree({ cache: deps.cache, layout: deps.layout, repo: chat.repo, chatId: chat.chatId, base: chat.base, fetch: false });
}

/** restoreWorktree for the chat working in `dir`, taking its lock. */
export async function restoreWorktreeAt(deps: ChatDeps, dir: string): Promise<void> {
  if (existsSync(dir)) return; // every /oc request passes here: a sync stat is ~2 µs, a promised one ~20 µs
  const chat = await deps.store.byWorktree(dir);
  if (!chat) return;
  await deps.locks.run(chat.chatId, async () => {
    const current = await deps.store.get(chat.chatId);
    if (current) await restoreWorktree(deps, current);
  });
}
