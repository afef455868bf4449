import { ApiError } from "../../lib/api-error.ts";
import type { Chat } from "./chat-store.ts";
import type { ChatDeps } from "./deps.ts";
import { unwrap } from "./opencode-call.ts";
import type { PromptInput, PromptRow } from "./prompt-ledger.ts";
import { restoreWorktree } from "./restore-worktree.ts";

/**
 * A prompt opencode lost this many times (it stopped before storing it) is not sent again: enough
 * that restarts and crashes that merely coincide with it never drop it, few enough that a prompt
 * which itself takes opencode down does not do so forever.
 */
const MAX_ATTEMPTS = 5;

/**
 * Delivers prompts to opencode exactly once, FIFO per chat, only while the chat is idle
 * (opencode misbehaves when prompted while busy). The ledger row moves queued → sending → sent;
 * a prompt left `sending` by a crash is settled from opencode's own messages.
 */
export class PromptPump {
  constructor(private deps: ChatDeps) {}

  async submit(chat: Chat, promptId: string, input: PromptInput): Promise<"sent" | "queued" | "duplicate"> {
    const fresh = await this.deps.ledger.record(promptId, chat.chatId, input);
    if (!fresh) return "duplicate";
    await this.pump(chat.chatId);
    const row = await this.deps.ledger.get(promptId);
    if (row?.state === "failed") throw new ApiError(400, "prompt_rejected", row.error ?? "opencode rejected the prompt");
    return row?.state === "sent" ? "sent" : "queued";
  }

  pump(chatId: string): Promise<void> {
    return this.deps.locks.run(chatId, () => this.pumpLocked(chatId));
  }

  /** Call only while holding the chat's lock. */
  async pumpLocked(chatId: string): Promise<void> {
    for (;;) {
      const chat = await this.deps.store.get(chatId);
      if (!chat || chat.status === "busy" || chat.setupState === "running") return;
      // A send cut off by a crash: settled from opencode's own messages before anything new goes out.
      if (!(await this.settleSending(chat))) return;
      const next = await this.deps.ledger.nextQueued(chatId);
      if (!next) return;
      await restoreWorktree(this.deps, chat);
      const outcome = await this.deliver(chat, next);
      if (outcome !== "rejected") return;
    }
  }

  private async deliver(chat: Chat, prompt: PromptRow): Promise<"sent" | "rejected" | "unknown"> {
    let client;
    try {
      client = this.deps.opencode();
    } catch {
      return "unknown";
    }
    await this.deps.ledger.startSend(prompt.promptId);
    try {
      await unwrap("send prompt", client.session.promptAsync({ sessionID: chat.sessionId, directory: chat.worktree, ...promptBody(prompt) }));
    } catch (err) {
      const status = err instanceof ApiError ? err.status : 0;
      if (status !== 400 && status !== 404) {
        this.deps.log(`prompt ${prompt.promptId}: outcome unknown (${(err as Error).message}); settled on recovery`);
        return "unknown";
      }
      await this.deps.ledger.setState(prompt.promptId, "failed", (err as Error).message);
      this.deps.bus.publish({ type: "prompt.failed", chatId: chat.chatId, promptId: prompt.promptId, error: (err as Error).message });
      return "rejected";
    }
    this.deps.runStarts.sent(chat.chatId);
    await this.deps.store.setStatus(chat.chatId, "busy");
    await this.deps.ledger.setState(prompt.promptId, "sent");
    this.deps.bus.publish({ type: "prompt.sent", chatId: chat.chatId, promptId: prompt.promptId });
    this.deps.bus.publish({ type: "chat.status", chatId: chat.chatId, status: "busy" });
    return "sent";
  }

  /** After opencode (re)starts: settle every `sending` prompt, then deliver what is queued. */
  async recover(): Promise<void> {
    for (const chat of await this.deps.store.list()) await this.pump(chat.chatId);
    for (const stale of await this.deps.ledger.inState("sending")) {
      if (!(await this.deps.store.get(stale.chatId))) await this.deps.ledger.setState(stale.promptId, "failed", "chat deleted");
    }
  }

  /** Call while holding the chat's lock. false: opencode could not tell, so nothing may be sent yet. */
  private async settleSending(chat: Chat): Promise<boolean> {
    for (const p of await this.deps.ledger.inState("sending", chat.chatId)) {
      const delivered = await this.wasDelivered(chat, p.promptId);
      if (delivered === undefined) return false;
      if (delivered) await this.deps.ledger.setState(p.promptId, "sent");
      else if (p.attempts < MAX_ATTEMPTS) await this.deps.ledger.setState(p.promptId, "queued");
      else {
        const error = `opencode stopped ${p.attempts} times while taking this prompt; send it again to retry`;
        await this.deps.ledger.setState(p.promptId, "failed", error);
        this.deps.bus.publish({ type: "prompt.failed", chatId: chat.chatId, promptId: p.promptId, error });
      }
    }
    return true;
  }

  private async wasDelivered(chat: Chat, promptId: string): Promise<boolean | undefined> {
    try {
      const messages = await unwrap("read messages", this.deps.opencode().session.messages({ sessionID: chat.sessionId, directory: chat.worktree, limit: 50 }));
      return messages.some((m) => m.parts.some((part) => part.type === "text" && part.metadata?.ocwebPromptId === promptId));
    } catch (err) {
      this.deps.log(`prompt ${promptId}: cannot tell yet whether opencode has it (${(err as Error).message})`);
      return undefined;
    }
  }
}

function promptBody(prompt: PromptRow) {
  const { text, model, agent, files } = prompt.input;
  const [providerID, ...rest] = model ? model.split("/") : [];
  return {
    model: providerID && rest.length ? { providerID, modelID: rest.join("/") } : undefined,
    agent,
    parts: [
      { type: "text" as const, text, metadata: { ocwebPromptId: prompt.promptId } },
      ...(files ?? []).map((f) => ({ type: "file" as const, mime: f.mime, url: f.url, filename: f.filename })),
    ],
  };
}
