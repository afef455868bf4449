import { ENV_BOX_ID } from "../box/client.ts";
import { prompts } from "../db/schema.ts";
import type { chats } from "../db/schema.ts";

type ChatRow = typeof chats.$inferSelect;
type PromptRow = typeof prompts.$inferSelect;

/** A chat as the API shows it (ARCHITECTURE.md: {id, repo, branch, base, status, title?, createdAt} and more). */
export function chatView(c: ChatRow) {
  return {
    id: c.id,
    repo: c.repo,
    boxId: c.boxId ?? ENV_BOX_ID,
    branch: c.branch,
    base: c.base,
    status: c.status,
    needsYou: c.needsYou,
    title: c.title ?? undefined,
    model: c.model ?? undefined,
    error: c.error ?? undefined,
    sessionId: c.sessionId ?? undefined,
    directory: c.directory ?? undefined,
    filesChanged: c.filesChanged,
    additions: c.additions,
    deletions: c.deletions,
    // Where it came from and where it went.
    groupId: c.groupId ?? undefined,
    issueUrl: c.issueUrl ?? undefined,
    scheduleId: c.scheduleId ?? undefined,
    forkedFrom: c.forkedFrom ?? undefined,
    prUrl: c.prUrl ?? undefined,
    muted: c.muted,
    costUsd: c.costUsd,
    tokensIn: c.tokensIn,
    tokensOut: c.tokensOut,
    archived: c.archivedAt !== null,
    createdAt: c.createdAt.toISOString(),
    lastActivityAt: c.lastActivityAt.toISOString(),
  };
}

export type ChatView = ReturnType<typeof chatView>;

/** What a prompt's view reads: never its attachments, which can be megabytes each. */
export const promptViewColumns = { id: prompts.id, text: prompts.text, state: prompts.state, error: prompts.error, createdAt: prompts.createdAt, sentAt: prompts.sentAt };

export function promptView(p: Pick<PromptRow, "id" | "text" | "state" | "error" | "createdAt" | "sentAt">) {
  return {
    id: p.id,
    text: p.text,
    state: p.state,
    error: p.error ?? undefined,
    createdAt: p.createdAt.toISOString(),
    sentAt: p.sentAt?.toISOString(),
  };
}
