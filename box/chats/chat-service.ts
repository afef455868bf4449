import { addWorktree, checkOutIfEmpty, freshenNewWorktree, removeWorktree } from "../git/worktrees.ts";
import { checkpoint as commitCheckpoint, isClean, listCheckpoints } from "../git/checkpoints.ts";
import { diffAgainstBase } from "../git/diff.ts";
import { conflict, notFound } from "../../lib/api-error.ts";
import { chatBranch } from "../names.ts";
import type { Chat } from "./chat-store.ts";
import { detach } from "../lib/detach.ts";
import type { ChatDeps } from "./deps.ts";
import { unwrap } from "./opencode-call.ts";
import { restoreWorktreeAt } from "./restore-worktree.ts";
import { makeSpare } from "../git/spares.ts";
import { hasSetupScript, runSetupScript } from "./setup-script.ts";

export type ChatView = ReturnType<typeof chatView>;

export function chatView(c: Chat) {
  return {
    chatId: c.chatId,
    repo: c.repo,
    branch: c.branch,
    base: c.base,
    baseCommit: c.baseCommit,
    worktree: c.worktree,
    sessionId: c.sessionId,
    status: c.status,
    error: c.lastError ?? undefined,
    archived: c.archived,
    setup: { state: c.setupState, output: c.setupOutput ?? undefined },
    createdAt: new Date(c.createdAt).toISOString(),
    updatedAt: new Date(c.updatedAt).toISOString(),
  };
}

/** Chat lifecycle: worktree + branch + opencode session, checkpoints, diff, delete. */
export class ChatService {
  /** resetStuckInstance's resets under way, by worktree. */
  readonly #resets = new Map<string, Promise<boolean>>();

  constructor(
    private deps: ChatDeps,
    private afterSetup: (chatId: string) => void,
  ) {}

  async get(chatId: string): Promise<Chat> {
    const chat = await this.deps.store.get(chatId);
    if (!chat) throw notFound(`no chat ${chatId}`);
    return chat;
  }

  /** Idempotent on chatId: the same request again answers the existing chat. */
  create(input: { chatId: string; repo: string; base?: string; fromCommit?: string }): Promise<{ created: boolean; chat: Chat }> {
    return this.deps.locks.run(input.chatId, async () => {
      const existing = await this.deps.store.get(input.chatId, { includeDeleted: true });
      if (existing) return { created: false, chat: this.sameChat(existing, input) };

      const { cache } = this.deps;
      // A fork starts at a commit already in the cache: nothing to fetch, nothing to move it to.
      const cached = !input.fromCommit && (await cache.has(input.repo));
      // opencode needs only the worktree's .git to open the directory, so its session is made while git writes the files.
      const forked = await addWorktree({ ...this.deps, ...input, fetch: false, checkout: false, useSpare: this.deps });
      // The fetch overlaps the checkout; freshenNewWorktree moves the new worktree if upstream moved.
      const fetched = cached ? cache.refresh(input.repo) : Promise.resolve();
      fetched.catch(() => undefined); // awaited below; a failure must not go unhandled meanwhile
      const checkedOut = checkOutIfEmpty(forked.worktree);
      const [wt, session] = await Promise.all([
        input.fromCommit
          ? checkedOut.then(() => forked)
          : freshenNewWorktree({ fetched, checkedOut, layout: this.deps.layout, repo: input.repo, info: forked }),
        unwrap("create opencode session", this.deps.opencode().session.create({ directory: forked.worktree, title: `${input.repo} · ${chatBranch(input.chatId)}` })),
      ]);
      const setup = await hasSetupScript(wt.worktree);
      const chat = await this.deps.store.insert({
        chatId: input.chatId,
        repo: input.repo,
        ...wt,
        sessionId: session.id,
        setupState: setup ? "running" : "none",
      });
      if (setup) detach(() => this.runSetup(chat), `setup ${chat.chatId}`, this.deps.log);
      detach(() => makeSpare(cache, input.repo), `spare worktree for ${input.repo}`, this.deps.log);
      return { created: true, chat };
    });
  }

  private sameChat(existing: Chat, input: { repo: string; base?: string }): Chat {
    if (existing.deleted) throw conflict(`chat ${existing.chatId} was deleted; chat ids are never reused`);
    if (existing.repo !== input.repo || (input.base && input.base !== existing.base)) {
      throw conflict(`chat ${existing.chatId} already exists for ${existing.repo} (base ${existing.base})`);
    }
    return existing;
  }

  private async runSetup(chat: Chat) {
    const result = await runSetupScript(chat.worktree, this.deps.setupTimeoutMs);
    await this.deps.store.setSetup(chat.chatId, result.ok ? "ok" : "failed", result.output);
    this.deps.bus.publish({ type: "chat.setup", chatId: chat.chatId, state: result.ok ? "ok" : "failed", output: result.output });
    this.afterSetup(chat.chatId);
  }

  /** Commits everything in the worktree on the chat branch; null when there was nothing to commit. */
  async checkpoint(chat: Chat, message: string) {
    const result = await commitCheckpoint({
      worktree: chat.worktree,
      branch: chat.branch,
      message,
      push: this.deps.pushAuth ? { auth: this.deps.pushAuth } : undefined,
    });
    if (!result) return null;
    await this.deps.store.addCheckpoint({ sha: result.sha, chatId: chat.chatId, message, filesChanged: result.filesChanged, pushed: result.pushed });
    this.deps.bus.publish({ type: "chat.checkpoint", chatId: chat.chatId, sha: result.sha, filesChanged: result.filesChanged, pushed: result.pushed });
    return result;
  }

  /** A checkpoint asked for by the user: message from the last prompt sent. */
  checkpointNow(chatId: string) {
    return this.deps.locks.run(chatId, async () => {
      const chat = await this.get(chatId);
      const last = await this.deps.ledger.lastSent(chatId);
      return this.checkpoint(chat, last?.input.text ?? "ocweb checkpoint");
    });
  }

  /** The chat branch's commits since its base, with their files; `pushed` as recorded when made. */
  async checkpoints(chat: Chat) {
    const [commits, rows] = await Promise.all([
      listCheckpoints({ gitDir: this.deps.layout.repoCache(chat.repo), baseCommit: chat.baseCommit, head: `refs/heads/${chat.branch}` }),
      this.deps.store.checkpoints(chat.chatId),
    ]);
    // The box's own record has millisecond times (git's are whole seconds) and whether it was pushed.
    const recorded = new Map(rows.map((r) => [r.sha, r]));
    return commits.map((c) => {
      const row = recorded.get(c.sha);
      return { ...c, pushed: row?.pushed ?? false, createdAt: new Date(row?.createdAt ?? c.createdAt).toISOString() };
    });
  }

  async diff(chat: Chat) {
    const d = await diffAgainstBase({ worktree: chat.worktree, baseCommit: chat.baseCommit });
    return { base: chat.base, baseCommit: chat.baseCommit, ...d };
  }

  async abort(chat: Chat) {
    this.deps.runStarts.abortRequested(chat.chatId);
    await unwrap("abort", this.deps.opencode().session.abort({ sessionID: chat.sessionId }));
  }

  async abortById(chatId: string) {
    await unwrap("abort", this.deps.opencode().session.abort({ sessionID: (await this.get(chatId)).sessionId }));
  }

  async setArchived(chatId: string, archived: boolean) {
    await this.get(chatId);
    await this.deps.store.setArchived(chatId, archived);
  }

  /** Before opencode is sent into a chat's directory: a worktree disk GC removed is checked out again. */
  restoreWorktreeAt(dir: string) {
    return restoreWorktreeAt(this.deps, dir);
  }

  /**
   * Disposes opencode's instance for a chat's worktree after it interrupted every read there for
   * seconds (a CI fuzz run saw one stuck so for 40 s). Not while work is under way in it: a dispose
   * cancels runs. Says whether it did; the next request bootstraps the instance afresh. Reads stuck
   * in the same worktree at once share one reset.
   */
  resetStuckInstance(dir: string): Promise<boolean> {
    const running = this.#resets.get(dir);
    if (running) return running;
    const reset = this.#resetInstance(dir).finally(() => this.#resets.delete(dir));
    this.#resets.set(dir, reset);
    return reset;
  }

  async #resetInstance(dir: string): Promise<boolean> {
    const chat = await this.deps.store.byWorktree(dir);
    if (!chat || chat.status === "busy" || (await this.deps.ledger.inState("sending", chat.chatId)).length > 0) return false;
    this.deps.log(`chat ${chat.chatId}: opencode kept interrupting reads in its worktree; disposing that instance`);
    await unwrap("dispose the worktree's opencode instance", this.deps.opencode().instance.dispose({ directory: dir }));
    return true;
  }

  /** Disk GC's removal, under the chat's lock so no send starts meanwhile; a chat with work under way keeps its worktree. */
  removeIdleWorktree(repo: string, chatId: string) {
    return this.deps.locks.run(chatId, async () => {
      const chat = await this.deps.store.get(chatId);
      if (chat && !chat.archived) throw conflict("the chat is no longer archived");
      const pending = chat ? [...(await this.deps.ledger.inState("queued", chatId)), ...(await this.deps.ledger.inState("sending", chatId))] : [];
      if (chat && (chat.status === "busy" || pending.length > 0)) throw conflict("the chat has work under way");
      await removeWorktree({ layout: this.deps.layout, repo, chatId });
    });
  }

  /** Checkpoint, remove the worktree, delete the opencode session; the branch stays. */
  delete(chatId: string) {
    return this.deps.locks.run(chatId, async () => {
      const chat = await this.get(chatId);
      if (chat.status === "busy") await this.abort(chat).catch(() => undefined);
      if (!(await isClean(chat.worktree).catch(() => true))) await this.checkpoint(chat, "ocweb: work in progress at chat deletion");
      await removeWorktree({ layout: this.deps.layout, repo: chat.repo, chatId });
      await unwrap("delete opencode session", this.deps.opencode().session.delete({ sessionID: chat.sessionId })).catch((err) =>
        this.deps.log(`delete session ${chat.sessionId}: ${(err as Error).message}`),
      );
      for (const p of await this.deps.ledger.inState("queued", chatId)) await this.deps.ledger.setState(p.promptId, "failed", "chat deleted");
      await this.deps.store.markDeleted(chatId);
    });
  }
}
