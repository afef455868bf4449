import type { ChatService } from "./chats/chat-service.ts";
import type { ChatStore } from "./chats/chat-store.ts";
import type { PromptLedger } from "./chats/prompt-ledger.ts";
import type { PromptPump } from "./chats/prompt-pump.ts";
import type { BoxBus } from "./events/bus.ts";
import type { CloneCache } from "./git/clone-cache.ts";
import type { DataLayout } from "./names.ts";

/** Everything the routes need; assembled by startBox() in box/box.ts. */
export type BoxServices = {
  token: string;
  layout: DataLayout;
  budgetBytes: number;
  store: ChatStore;
  ledger: PromptLedger;
  chats: ChatService;
  pump: PromptPump;
  bus: BoxBus;
  cache: CloneCache;
  opencode: { up: boolean; version?: string; url: string; authHeader: string; pid?: number };
  log: (line: string) => void;
};
