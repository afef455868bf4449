import type { InferResponseType } from "hono/client";
import { createSignal } from "solid-js";
import { api, json } from "./api.ts";
import { early } from "./early.ts";
import { isNetworkError } from "./media.ts";
import { handleUnauthorized, whenSignedOut } from "./session.ts";
import { load, save } from "./storage.ts";

type ListBody = InferResponseType<typeof api.api.chats.$get, 200>;
export type Chat = ListBody["chats"][number];
export type BoxState = ListBody["box"] | "unknown";
type Cached = { chats: Chat[]; box: ListBody["box"]; at: number };

const cached = load<Cached>("chats");
const [chats, setChats] = createSignal<Chat[]>(cached?.chats ?? []);
const [box, setBox] = createSignal<BoxState>(cached?.box ?? "unknown");
const [loaded, setLoaded] = createSignal(cached !== undefined);
// The worker itself could not be reached: the list shown is the saved copy.
const [stale, setStale] = createSignal(false);
export { box, chats, loaded, stale };

whenSignedOut(() => {
  save("chats", undefined);
  setChats([]);
  setBox("unknown");
  setLoaded(false);
});

let inFlight: Promise<void> | undefined;

/** The list paints from the saved copy; this replaces it with the worker's answer. */
export function refreshChats(): Promise<void> {
  inFlight ??= load1().finally(() => (inFlight = undefined));
  return inFlight;
}

async function load1(): Promise<void> {
  try {
    const body = await json<ListBody>(early("chats") ?? api.api.chats.$get({ query: {} }));
    setChats(body.chats);
    setBox(body.box);
    setLoaded(true);
    setStale(false);
    save("chats", { chats: body.chats, box: body.box, at: Date.now() } satisfies Cached);
    void fillDiffStats(body.chats);
  } catch (err) {
    if (handleUnauthorized(err)) return;
    if (isNetworkError(err)) setStale(true);
  }
}

/**
 * Checkpoints tell the worker how many files changed but not the line counts; the diff route
 * computes and stores them. Asked once per chat activity, for finished runs only.
 */
const asked = new Set<string>();
async function fillDiffStats(list: Chat[]): Promise<void> {
  const todo = list.filter((c) => c.filesChanged > 0 && c.additions + c.deletions === 0 && c.status !== "busy" && c.status !== "queued");
  for (const chat of todo.slice(0, 3)) {
    const key = `${chat.id}@${chat.lastActivityAt}`;
    if (asked.has(key)) continue;
    asked.add(key);
    const diff = await json<{ files: Array<{ additions: number; deletions: number }> }>(fetch(`/api/chats/${chat.id}/diff`)).catch(() => undefined);
    if (!diff) continue;
    const additions = diff.files.reduce((n, f) => n + f.additions, 0);
    const deletions = diff.files.reduce((n, f) => n + f.deletions, 0);
    setChats((all) => all.map((c) => (c.id === chat.id ? { ...c, filesChanged: diff.files.length, additions, deletions } : c)));
  }
}

/** Shows a chat the worker just created before the next refresh lists it. */
export function addChat(chat: Chat): void {
  setChats((all) => [chat, ...all.filter((c) => c.id !== chat.id)]);
}
