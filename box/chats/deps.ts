import type { OpencodeClient } from "../opencode/client.ts";
import type { CloneCache } from "../git/clone-cache.ts";
import type { GitAuth } from "../git/git.ts";
import type { BoxBus } from "../events/bus.ts";
import type { KeyedLock } from "../lib/keyed-lock.ts";
import type { DataLayout } from "../names.ts";
import type { ChatStore } from "./chat-store.ts";
import type { PromptLedger } from "./prompt-ledger.ts";
import type { RunStarts } from "./run-starts.ts";

/** What the chat modules share; built once in box/main.ts (and by tests). */
export type ChatDeps = {
  store: ChatStore;
  ledger: PromptLedger;
  bus: BoxBus;
  layout: DataLayout;
  cache: CloneCache;
  /** The current opencode client; throws ApiError 503 while opencode is down. */
  opencode: () => OpencodeClient;
  /** Set when pushes are configured (a token, or a file:// base in tests). */
  pushAuth?: GitAuth;
  /** One chat's state changes run one at a time (keyed by chatId). */
  locks: KeyedLock;
  /** Sends opencode has not yet confirmed as running. */
  runStarts: RunStarts;
  setupTimeoutMs: number;
  log: (line: string) => void;
};
