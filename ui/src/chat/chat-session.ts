import { createOpencodeClient, type OpencodeClient } from "@opencode-ai/sdk/v2/client";
import type { InferResponseType } from "hono/client";
import { createSignal, onCleanup } from "solid-js";
import { createStore, reconcile } from "solid-js/store";
import { api, ApiFailure, json } from "../lib/api.ts";
import { handleUnauthorized } from "../lib/session.ts";
import { EventStream, openSse, type StreamState } from "./event-stream.ts";
import { createOutbox, type ServerPrompt } from "./outbox.ts";
import { applyEvent, applySnapshot, emptyTranscript, prependOlder, type OcEvent, type Snapshot, type Transcript } from "./transcript.ts";

export type Chat = InferResponseType<(typeof api.api.chats)[":id"]["$get"], 200>["chat"];
type Sdk<T> = Promise<{ data?: T; error?: unknown; response?: Response }>;

const PAGE = 50;
const FLUSH_MS = 16;

async function ok<T>(call: Sdk<T>): Promise<{ data: T; response?: Response }> {
  const r = await call;
  if (r.error !== undefined || r.data === undefined) throw new Error(`opencode answered ${r.response?.status ?? "nothing"}`);
  return { data: r.data, response: r.response };
}

/**
 * Everything live about one chat: the worker's row, opencode's transcript (one event stream, a
 * re-fetch on every `server.connected`), and the prompts not in the transcript yet.
 */
export function createChatSession(chatId: string) {
  const [chat, setChat] = createSignal<Chat>();
  const [loadError, setLoadError] = createSignal<string>();
  const [streamState, setStreamState] = createSignal<StreamState>("connecting");
  const [prompts, setPrompts] = createSignal<ServerPrompt[]>([]);
  const [store, setStore] = createStore<Transcript>(emptyTranscript(""));
  let state = emptyTranscript("");
  let client: OpencodeClient | undefined;
  let stream: EventStream | undefined;
  let queue: OcEvent[] = [];
  let flushTimer: ReturnType<typeof setTimeout> | undefined;
  let replay: OcEvent[] | undefined;
  let resyncing: Promise<void> | undefined;
  let again = false;
  let disposed = false;
  const timers: Array<ReturnType<typeof setInterval>> = [];

  const commit = () => setStore(reconcile(state, { key: "id", merge: false }));
  const acceptPrompt = (p: ServerPrompt) => setPrompts((all) => [...all.filter((x) => x.id !== p.id), p]);
  const outbox = createOutbox(chatId, acceptPrompt);

  function flush() {
    flushTimer = undefined;
    const batch = queue;
    queue = [];
    for (const ev of batch) state = applyEvent(state, ev);
    commit();
  }

  function onEvent(raw: unknown) {
    const ev = raw as OcEvent;
    if (!ev || typeof ev.type !== "string") return;
    if (ev.type === "server.connected") return void resync();
    if (ev.type === "server.heartbeat") return;
    replay?.push(ev);
    queue.push(ev);
    flushTimer ??= setTimeout(flush, FLUSH_MS);
  }

  async function fetchChat(): Promise<Chat | undefined> {
    try {
      const body = await json<{ chat: Chat }>(api.api.chats[":id"].$get({ param: { id: chatId } }));
      setChat(body.chat);
      setLoadError(undefined);
      return body.chat;
    } catch (err) {
      if (handleUnauthorized(err)) return undefined;
      if (err instanceof ApiFailure) setLoadError(err.message);
      return chat();
    }
  }

  /** Messages are required; for the rest a failed call keeps what is known (status falls back to the worker's). */
  async function fetchSnapshot(c: OpencodeClient, chatRow: Chat, sessionID: string): Promise<Snapshot> {
    const soft = <T,>(call: Sdk<T>) => ok(call).then((r) => r.data, () => undefined);
    const [messages, status, permissions, questions, todos, session] = await Promise.all([
      ok(c.session.messages({ sessionID, limit: PAGE })),
      soft(c.session.status()),
      soft(c.permission.list()),
      soft(c.question.list()),
      soft(c.session.todo({ sessionID })),
      soft(c.session.get({ sessionID })),
    ]);
    const last = messages.data.at(-1)?.info;
    const running = chatRow.status === "busy" || (last?.role === "assistant" && !last.time.completed && !last.error);
    return {
      messages: messages.data,
      olderCursor: messages.response?.headers.get("x-next-cursor") ?? undefined,
      status: status ? (status[sessionID] ?? { type: "idle" }) : { type: running ? "busy" : "idle" },
      permissions: permissions ?? state.permissions,
      questions: questions ?? state.questions,
      todos: todos ?? state.todos,
      title: session?.title,
    };
  }

  async function fetchPrompts() {
    const body = await json<{ prompts: ServerPrompt[] }>(api.api.chats[":id"].prompts.$get({ param: { id: chatId } })).catch(() => undefined);
    if (body) setPrompts(body.prompts);
  }

  async function resyncOnce(): Promise<void> {
    void outbox.flush();
    const [c] = await Promise.all([fetchChat(), fetchPrompts()]);
    if (!client || !c?.sessionId) return;
    replay = [];
    try {
      const snap = await fetchSnapshot(client, c, c.sessionId);
      state = applySnapshot(state, snap);
      for (const ev of replay) state = applyEvent(state, ev);
      queue = [];
      commit();
    } catch {
      // the box or the stream is away; the next server.connected tries again
    } finally {
      replay = undefined;
    }
  }

  /** Re-fetches everything; calls while one runs coalesce into one more run after it. */
  function resync(): Promise<void> {
    if (resyncing) {
      again = true;
      return resyncing;
    }
    resyncing = (async () => {
      do {
        again = false;
        await resyncOnce();
      } while (again && !disposed);
    })().finally(() => (resyncing = undefined));
    return resyncing;
  }

  function connect(c: Chat) {
    if (client || !c.sessionId || !c.directory || disposed) return;
    state = emptyTranscript(c.sessionId);
    commit();
    client = createOpencodeClient({ baseUrl: `${location.origin}/api/box/oc`, directory: c.directory });
    const url = `/api/box/oc/event?directory=${encodeURIComponent(c.directory)}`;
    stream = new EventStream({ open: (signal) => openSse(url, signal), onEvent, onState: setStreamState });
    stream.start();
  }

  /** A chat still queued has no session yet: poll until the box has made it. */
  async function start() {
    const c = await fetchChat();
    if (c?.sessionId) return connect(c);
    void fetchPrompts();
    const poll = setInterval(async () => {
      const next = await fetchChat();
      if (next?.sessionId) {
        clearInterval(poll);
        connect(next);
      } else if (next?.status === "error") clearInterval(poll);
    }, 2_000);
    timers.push(poll);
  }

  const wake = () => {
    if (document.visibilityState !== "visible" || disposed) return;
    if (!stream || stream.wake() === "fresh") void resync();
    void outbox.flush();
  };
  const offline = () => stream?.drop();
  document.addEventListener("visibilitychange", wake);
  window.addEventListener("pageshow", wake);
  window.addEventListener("online", wake);
  window.addEventListener("offline", offline);
  timers.push(setInterval(() => outbox.items().some((p) => !p.refused) && void outbox.flush(), 10_000));
  onCleanup(() => {
    disposed = true;
    stream?.stop();
    clearTimeout(flushTimer);
    for (const t of timers) clearInterval(t);
    document.removeEventListener("visibilitychange", wake);
    window.removeEventListener("pageshow", wake);
    window.removeEventListener("online", wake);
    window.removeEventListener("offline", offline);
  });
  void start();

  return {
    chat,
    loadError,
    transcript: store,
    streamState,
    prompts,
    outbox,
    resync,
    refreshPrompts: fetchPrompts,
    refreshChat: fetchChat,
    client: () => client,
    /** Loads the page before the oldest message; false when there is none. */
    async loadOlder(): Promise<boolean> {
      const cursor = state.olderCursor;
      if (!client || !cursor || !state.sessionID) return false;
      const page = await ok(client.session.messages({ sessionID: state.sessionID, limit: PAGE, before: cursor })).catch(() => undefined);
      if (!page) return false;
      state = prependOlder(state, page.data, page.response?.headers.get("x-next-cursor") ?? undefined);
      commit();
      return true;
    },
    /** Optimistic: a request answered here disappears at once; the event or the next resync confirms. */
    dropRequest(id: string) {
      state = { ...state, permissions: state.permissions.filter((p) => p.id !== id), questions: state.questions.filter((q) => q.id !== id) };
      commit();
    },
  };
}

export type ChatSession = ReturnType<typeof createChatSession>;
