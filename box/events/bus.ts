import { EventEmitter } from "node:events";
import type { ChatStatus } from "../chats/chat-store.ts";

/**
 * A chat's running totals: opencode's sums over the assistant messages of the chat's session.
 * tokensIn = input + cache.read + cache.write (opencode's `input` leaves cached prompt tokens out);
 * tokensOut = output + reasoning. cost is in USD at the model's configured prices.
 */
export type ChatUsage = { cost: number; tokensIn: number; tokensOut: number };

export type BoxEventBody =
  | { type: "chat.status"; chatId: string; status: ChatStatus; error?: string; usage?: ChatUsage }
  | { type: "chat.checkpoint"; chatId: string; sha: string; filesChanged: number; pushed: boolean }
  | { type: "chat.setup"; chatId: string; state: "ok" | "failed"; output: string }
  | { type: "prompt.sent"; chatId: string; promptId: string }
  | { type: "prompt.failed"; chatId: string; promptId: string; error: string }
  | { type: "permission.asked"; chatId: string; request: unknown }
  | { type: "question.asked"; chatId: string; request: unknown };

export type BoxEvent = BoxEventBody & { id: number; at: number };

/** The box's own event stream: feeds GET /mgmt/events and the webhooks to the worker. */
export class BoxBus {
  private emitter = new EventEmitter().setMaxListeners(0);
  private seq = 0;

  publish(body: BoxEventBody): BoxEvent {
    const event = { ...body, id: ++this.seq, at: Date.now() } as BoxEvent;
    this.emitter.emit("event", event);
    return event;
  }

  subscribe(listener: (e: BoxEvent) => void): () => void {
    this.emitter.on("event", listener);
    return () => this.emitter.off("event", listener);
  }
}
