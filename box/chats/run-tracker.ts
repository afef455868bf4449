import type { Session } from "@opencode-ai/sdk/v2/client";
import type { ChatUsage } from "../events/bus.ts";
import type { ChatService } from "./chat-service.ts";
import type { ChatDeps } from "./deps.ts";
import { unwrap } from "./opencode-call.ts";
import type { PromptPump } from "./prompt-pump.ts";

export type OpencodeEvent = { directory?: string; payload: { type: string; properties?: Record<string, unknown> } };

/**
 * Follows opencode's events to keep each chat's status. When a run ends: checkpoint the work,
 * record idle or error, then deliver the next queued prompt. Every change for one chat runs under
 * that chat's lock, so events, sends and deletes never interleave.
 */
export class RunTracker {
  private runErrors = new Map<string, string>();

  constructor(
    private deps: ChatDeps,
    private chats: ChatService,
    private pump: PromptPump,
  ) {}

  private lookups: Promise<void> = Promise.resolve();

  /** Events are looked up in arrival order; per-chat work then queues on the chat's lock, in order. */
  onEvent(event: OpencodeEvent): Promise<void> {
    this.lookups = this.lookups.then(() => this.dispatch(event)).catch((err) => this.deps.log(`event ${event.payload.type}: ${(err as Error).message}`));
    return this.lookups;
  }

  private async dispatch(event: OpencodeEvent): Promise<void> {
    const { type, properties = {} } = event.payload;
    const sessionID = typeof properties.sessionID === "string" ? properties.sessionID : undefined;
    if (!sessionID) return;
    const chat = await this.deps.store.placeOfSession(sessionID);
    if (!chat) return;
    const log = (err: unknown) => this.deps.log(`${type} ${chat.chatId}: ${(err as Error).message}`);
    if (type === "session.status") {
      const status = (properties.status as { type?: string } | undefined)?.type;
      void (status === "idle" ? this.settle(chat.chatId) : this.markBusy(chat.chatId)).catch(log);
      return;
    }
    if (type === "session.error") {
      this.deps.runStarts.started(chat.chatId); // a run that failed at once did start
      const error = properties.error as { name?: string; data?: { message?: string } } | undefined;
      if (error?.name !== "MessageAbortedError") this.runErrors.set(chat.chatId, error?.data?.message ?? error?.name ?? "unknown error");
      return;
    }
    if (type === "permission.asked") this.deps.bus.publish({ type: "permission.asked", chatId: chat.chatId, request: properties });
    if (type === "question.asked") this.deps.bus.publish({ type: "question.asked", chatId: chat.chatId, request: properties });
  }

  private markBusy(chatId: string) {
    if (this.deps.runStarts.started(chatId)) void this.chats.abortById(chatId).catch((err) => this.deps.log(`re-abort ${chatId}: ${(err as Error).message}`));
    return this.deps.locks.run(chatId, async () => {
      const chat = await this.deps.store.get(chatId);
      if (!chat || chat.status === "busy") return;
      await this.deps.store.setStatus(chatId, "busy");
      this.deps.bus.publish({ type: "chat.status", chatId, status: "busy" });
    });
  }

  /** opencode says the chat's session is idle: close the run, then send what is queued. */
  settle(chatId: string): Promise<void> {
    return this.deps.locks.run(chatId, async () => {
      const chat = await this.deps.store.get(chatId);
      if (!chat) return;
      if (chat.status === "busy") {
        // An unconfirmed send reads idle until opencode starts it, unless the events that would have
        // confirmed it were missed (the follower reconnecting): then only a finished reply ends it.
        if (this.deps.runStarts.pending(chatId) && !(await this.replyFinished(chatId, chat.sessionId, chat.worktree))) return;
        if (await this.stillBusy(chat.worktree, chat.sessionId)) return;
        this.deps.runStarts.started(chatId);
        const last = await this.deps.ledger.lastSent(chatId);
        await this.chats.checkpoint(chat, last?.input.text ?? "ocweb checkpoint").catch((err) => this.deps.log(`checkpoint ${chatId}: ${(err as Error).message}`));
        // Read before the status changes: whoever sees the chat idle can count on its event being out.
        const usage = await this.usage(chat.sessionId);
        const error = this.runErrors.get(chatId) ?? null;
        this.runErrors.delete(chatId);
        await this.deps.store.setStatus(chatId, error ? "error" : "idle", error);
        this.deps.bus.publish({ type: "chat.status", chatId, status: error ? "error" : "idle", ...(error ? { error } : {}), ...(usage ? { usage } : {}) });
      }
      await this.pump.pumpLocked(chatId);
    });
  }

  /** Right after a send, opencode's status can flicker to idle; ask before believing an idle event. */
  private async stillBusy(directory: string, sessionId: string): Promise<boolean> {
    // opencode() itself throws while opencode is down: keep it inside the guarded call.
    const statuses = await unwrap("session status", Promise.resolve().then(() => this.deps.opencode().session.status({ directory }))).catch(() => undefined);
    const status = statuses?.[sessionId];
    return status !== undefined && status.type !== "idle";
  }

  /**
   * The session's totals as opencode keeps them on the session row (sums over its assistant messages,
   * persisted, so right after a box or opencode restart too). One small read per finished run.
   */
  private async usage(sessionId: string): Promise<ChatUsage | undefined> {
    const session = await unwrap("read session", Promise.resolve().then(() => this.deps.opencode().session.get({ sessionID: sessionId }))).catch(() => undefined);
    return session ? usageOf(session) : undefined;
  }

  /**
   * True when opencode holds the user message of the chat's last sent prompt, followed by an assistant
   * reply that completed. Anchored on our promptId: right after a send, opencode may not have stored
   * the new message yet, and the previous run's finished reply must not count.
   */
  private async replyFinished(chatId: string, sessionId: string, directory: string): Promise<boolean | undefined> {
    const sent = await this.deps.ledger.lastSent(chatId);
    if (!sent) return false;
    const messages = await unwrap("read messages", Promise.resolve().then(() => this.deps.opencode().session.messages({ sessionID: sessionId, directory, limit: 30 }))).catch(() => undefined);
    if (!messages) return undefined; // opencode not reachable: not known
    const prompt = messages.findIndex((m) => m.info.role === "user" && m.parts.some((p) => p.type === "text" && p.metadata?.ocwebPromptId === sent.promptId));
    const last = messages.at(-1)?.info;
    return prompt >= 0 && prompt < messages.length - 1 && last?.role === "assistant" && last.time.completed !== undefined;
  }

  /** After a reconnect: events may have been missed, so re-check every chat we think is busy or cut off. */
  async resync(): Promise<void> {
    for (const chat of await this.deps.store.list()) {
      if (chat.status === "busy") await this.settle(chat.chatId);
      if (chat.status === "interrupted" && !this.recheckedInterrupted.has(chat.chatId)) await this.finishedAfterAll(chat.chatId);
    }
  }

  private recheckedInterrupted = new Set<string>();

  /** A run that ended just before opencode (or the box) went down was marked interrupted: it was not. */
  private finishedAfterAll(chatId: string): Promise<void> {
    return this.deps.locks.run(chatId, async () => {
      const chat = await this.deps.store.get(chatId);
      if (chat?.status !== "interrupted") return;
      const finished = await this.replyFinished(chatId, chat.sessionId, chat.worktree);
      if (finished !== undefined) this.recheckedInterrupted.add(chatId);
      if (!finished) return;
      await this.deps.store.setStatus(chatId, "idle");
      this.deps.bus.publish({ type: "chat.status", chatId, status: "idle" });
    });
  }

  /** opencode died: nothing is running any more. What the runs wrote is committed, so GC and forks see it. */
  async interruptAll(): Promise<void> {
    this.runErrors.clear();
    this.deps.runStarts.clear();
    this.recheckedInterrupted.clear();
    for (const chatId of await this.deps.store.interruptBusy()) {
      this.deps.bus.publish({ type: "chat.status", chatId, status: "interrupted" });
      await this.deps.locks.run(chatId, async () => {
        const chat = await this.deps.store.get(chatId);
        const last = await this.deps.ledger.lastSent(chatId);
        if (chat) await this.chats.checkpoint(chat, last?.input.text ?? "ocweb: work of an interrupted run").catch((err) => this.deps.log(`checkpoint ${chatId}: ${(err as Error).message}`));
        // opencode answers prompt_async before it stores the message: a send just before the crash may
        // be gone. Only the last send can be (the next waits for idle); recover() re-checks it.
        if (last) await this.deps.ledger.setState(last.promptId, "sending");
      });
    }
  }
}

function usageOf(session: Session): ChatUsage | undefined {
  const t = session.tokens;
  if (session.cost === undefined || !t) return undefined;
  return { cost: session.cost, tokensIn: t.input + t.cache.read + t.cache.write, tokensOut: t.output + t.reasoning };
}
