import { EventEmitter } from "node:events";
import type { ChatStatus } from "../chats/chat-store.ts";

export type BoxEventBody =
  | { type: "chat.status"; chatId: string; status: ChatStatus; error?: string }
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
