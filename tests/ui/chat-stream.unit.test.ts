import type { Message, Part } from "@opencode-ai/sdk/v2/client";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { EventStream, reconnectDelay, SseParser, type StreamState } from "../../ui/src/chat/event-stream.ts";
import { applyEvent, applySnapshot, deliveredPromptIds, emptyTranscript, prependOlder, type Snapshot, type Transcript } from "../../ui/src/chat/transcript.ts";

const S = "ses_1";
const user = (id: string): Message => ({ id, sessionID: S, role: "user", time: { created: 1 }, agent: "build", model: { providerID: "p", modelID: "m" } });
const assistant = (id: string, completed?: number): Message => ({
  id, sessionID: S, role: "assistant", parentID: "msg_0", time: { created: 2, completed }, modelID: "m", providerID: "p", mode: "build", agent: "build",
  path: { cwd: "/w", root: "/w" }, cost: 0, tokens: { input: 0, output: 0, reasoning: 0, cache: { read: 0, write: 0 } },
});
const text = (id: string, messageID: string, body: string, ended = false): Part =>
  ({ id, sessionID: S, messageID, type: "text", text: body, time: ended ? { start: 1, end: 2 } : { start: 1 } });
const ev = (type: string, properties: Record<string, unknown>) => ({ type, properties: { sessionID: S, ...properties } });
const snap = (messages: Snapshot["messages"], extra: Partial<Snapshot> = {}): Snapshot =>
  ({ messages, status: { type: "idle" }, todos: [], permissions: [], questions: [], ...extra });
const textOf = (t: Transcript, messageID: string, partID: string) =>
  (t.messages.find((m) => m.id === messageID)?.parts.find((p) => p.id === partID) as { text?: string } | undefined)?.text;

function streaming(): Transcript {
  let t = emptyTranscript(S);
  t = applyEvent(t, ev("message.updated", { info: assistant("msg_2") }));
  return applyEvent(t, ev("message.part.updated", { part: text("prt_1", "msg_2", "") }));
}

describe("transcript reducer", () => {
  it("appends message.part.delta to the part's field", () => {
    let t = streaming();
    t = applyEvent(t, ev("message.part.delta", { messageID: "msg_2", partID: "prt_1", field: "text", delta: "Hel" }));
    t = applyEvent(t, ev("message.part.delta", { messageID: "msg_2", partID: "prt_1", field: "text", delta: "lo" }));
    expect(textOf(t, "msg_2", "prt_1")).toBe("Hello");
  });

  it("replaces a part on message.part.updated and a message on message.updated, keeping its parts", () => {
    let t = streaming();
    t = applyEvent(t, ev("message.part.delta", { messageID: "msg_2", partID: "prt_1", field: "text", delta: "partial" }));
    t = applyEvent(t, ev("message.part.updated", { part: text("prt_1", "msg_2", "the full text", true) }));
    expect(textOf(t, "msg_2", "prt_1")).toBe("the full text");
    t = applyEvent(t, ev("message.updated", { info: assistant("msg_2", 99) }));
    const entry = t.messages.find((m) => m.id === "msg_2")!;
    expect(entry.info.role === "assistant" && entry.info.time.completed).toBe(99);
    expect(entry.parts).toHaveLength(1);
  });

  it("keeps messages and parts in id order whatever order they arrive in", () => {
    let t = emptyTranscript(S);
    t = applyEvent(t, ev("message.updated", { info: assistant("msg_2") }));
    t = applyEvent(t, ev("message.updated", { info: user("msg_1") }));
    t = applyEvent(t, ev("message.part.updated", { part: text("prt_b", "msg_2", "b") }));
    t = applyEvent(t, ev("message.part.updated", { part: text("prt_a", "msg_2", "a") }));
    expect(t.messages.map((m) => m.id)).toEqual(["msg_1", "msg_2"]);
    expect(t.messages[1]!.parts.map((p) => p.id)).toEqual(["prt_a", "prt_b"]);
  });

  it("removes messages and parts", () => {
    let t = streaming();
    t = applyEvent(t, ev("message.part.removed", { messageID: "msg_2", partID: "prt_1" }));
    expect(t.messages[0]!.parts).toHaveLength(0);
    t = applyEvent(t, ev("message.removed", { messageID: "msg_2" }));
    expect(t.messages).toHaveLength(0);
  });

  it("ignores unknown events and other sessions' messages, returning the same state", () => {
    const t = streaming();
    expect(applyEvent(t, { type: "session.next.text.delta", properties: { sessionID: S } })).toBe(t);
    expect(applyEvent(t, { type: "server.heartbeat", properties: {} })).toBe(t);
    expect(applyEvent(t, { type: "lsp.updated" })).toBe(t);
    expect(applyEvent(t, { type: "message.updated", properties: { sessionID: "ses_other", info: assistant("msg_9") } })).toBe(t);
    expect(applyEvent(t, ev("message.part.delta", { messageID: "msg_x", partID: "prt_x", field: "text", delta: "?" }))).toBe(t);
  });

  it("tracks status, errors, todos, permissions and questions", () => {
    let t = emptyTranscript(S);
    t = applyEvent(t, ev("session.status", { status: { type: "busy" } }));
    expect(t.status.type).toBe("busy");
    t = applyEvent(t, ev("todo.updated", { todos: [{ content: "write tests", status: "in_progress", priority: "high" }] }));
    expect(t.todos).toHaveLength(1);
    t = applyEvent(t, ev("permission.asked", { id: "per_1", permission: "bash", patterns: ["ls"], metadata: {}, always: ["ls *"] }));
    t = applyEvent(t, ev("question.asked", { id: "que_1", questions: [{ question: "Which?", header: "Pick", options: [] }] }));
    expect([t.permissions.length, t.questions.length]).toEqual([1, 1]);
    t = applyEvent(t, ev("permission.replied", { requestID: "per_1", reply: "once" }));
    t = applyEvent(t, ev("question.rejected", { requestID: "que_1" }));
    expect([t.permissions.length, t.questions.length]).toEqual([0, 0]);
    t = applyEvent(t, ev("session.error", { error: { name: "APIError", data: { message: "rate limited", isRetryable: false } } }));
    t = applyEvent(t, ev("session.idle", {}));
    expect(t.status.type).toBe("idle");
    expect(t.error).toBe("rate limited");
    expect(applyEvent(t, ev("session.error", { error: { name: "MessageAbortedError", data: { message: "aborted" } } }))).toBe(t);
  });

  it("a resync replaces the state; a part still streaming ignores deltas until its next snapshot", () => {
    let t = streaming();
    t = applyEvent(t, ev("message.part.delta", { messageID: "msg_2", partID: "prt_1", field: "text", delta: "before the gap" }));
    t = applyEvent(t, ev("permission.asked", { id: "per_old", permission: "bash", patterns: [], metadata: {}, always: [] }));
    // the stream dropped; the fetch shows the part stored empty (opencode persists text at text-end)
    t = applySnapshot(t, snap([{ info: user("msg_1"), parts: [] }, { info: assistant("msg_2"), parts: [text("prt_1", "msg_2", "")] }], { status: { type: "busy" } }));
    expect(t.messages.map((m) => m.id)).toEqual(["msg_1", "msg_2"]);
    expect(textOf(t, "msg_2", "prt_1")).toBe("");
    expect(t.permissions).toEqual([]);
    expect(t.status.type).toBe("busy");
    expect(t.stale).toEqual(["prt_1"]);
    t = applyEvent(t, ev("message.part.delta", { messageID: "msg_2", partID: "prt_1", field: "text", delta: "…tail" }));
    expect(textOf(t, "msg_2", "prt_1")).toBe("");
    t = applyEvent(t, ev("message.part.updated", { part: text("prt_1", "msg_2", "before the gap and the tail", true) }));
    expect(textOf(t, "msg_2", "prt_1")).toBe("before the gap and the tail");
    expect(t.stale).toEqual([]);
  });

  it("a resync keeps older pages loaded before it and their cursor", () => {
    let t = applySnapshot(emptyTranscript(S), snap([{ info: user("msg_5"), parts: [] }], { olderCursor: "c5" }));
    t = prependOlder(t, [{ info: user("msg_3"), parts: [] }, { info: user("msg_4"), parts: [] }], "c3");
    t = applySnapshot(t, snap([{ info: user("msg_5"), parts: [] }, { info: user("msg_6"), parts: [] }], { olderCursor: "c5" }));
    expect(t.messages.map((m) => m.id)).toEqual(["msg_3", "msg_4", "msg_5", "msg_6"]);
    expect(t.olderCursor).toBe("c3");
  });

  it("finds the promptIds the box tagged user messages with", () => {
    const part = { ...text("prt_u", "msg_1", "hi", true), metadata: { ocwebPromptId: "P1" } } as Part;
    const t = applySnapshot(emptyTranscript(S), snap([{ info: user("msg_1"), parts: [part] }]));
    expect([...deliveredPromptIds(t)]).toEqual(["P1"]);
  });
});

describe("SseParser", () => {
  it("yields each frame's data across chunk boundaries and CRLF", () => {
    const p = new SseParser();
    expect(p.push('data: {"type":"server.connected"}\n\ndata: {"ty')).toEqual(['{"type":"server.connected"}']);
    expect(p.push('pe":"x"}\r\n\r\n: comment\n\n')).toEqual(['{"type":"x"}']);
  });
});

/** An event source the test drives: each open() returns a stream the test pushes to or ends. */
function fakeServer() {
  const opened: Array<{ push(e: unknown): void; end(): void; signal: AbortSignal }> = [];
  const open = async (signal: AbortSignal): Promise<AsyncIterable<unknown>> => {
    const queue: unknown[] = [];
    let wake: (() => void) | undefined;
    let ended = false;
    const conn = {
      signal,
      push: (e: unknown) => (queue.push(e), wake?.()),
      end: () => ((ended = true), wake?.()),
    };
    signal.addEventListener("abort", () => conn.end());
    opened.push(conn);
    return {
      async *[Symbol.asyncIterator]() {
        for (;;) {
          while (queue.length) yield queue.shift();
          if (ended) throw new Error("closed");
          await new Promise<void>((r) => (wake = r));
        }
      },
    };
  };
  return { opened, open };
}

describe("EventStream watchdog and reconnect", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("reconnects after 25 s of silence, with growing backoff, and is open again on the next frame", async () => {
    const server = fakeServer();
    const states: StreamState[] = [];
    const events: unknown[] = [];
    const stream = new EventStream({ open: server.open, onEvent: (e) => events.push(e), onState: (s) => states.push(s) });
    stream.start();
    await vi.advanceTimersByTimeAsync(0);
    server.opened[0]!.push({ type: "server.connected" });
    await vi.advanceTimersByTimeAsync(0);
    expect(stream.state).toBe("open");
    expect(events).toEqual([{ type: "server.connected" }]);

    // heartbeats keep it alive
    for (let i = 0; i < 5; i++) {
      await vi.advanceTimersByTimeAsync(10_000);
      server.opened[0]!.push({ type: "server.heartbeat" });
      await vi.advanceTimersByTimeAsync(0);
    }
    expect(server.opened).toHaveLength(1);

    // silence: the watchdog fires at 25 s, aborts, reports down, retries after 250 ms
    await vi.advanceTimersByTimeAsync(24_999);
    expect(stream.state).toBe("open");
    await vi.advanceTimersByTimeAsync(1);
    expect(stream.state).toBe("down");
    expect(server.opened[0]!.signal.aborted).toBe(true);
    await vi.advanceTimersByTimeAsync(reconnectDelay(0));
    expect(server.opened).toHaveLength(2);

    // a refused attempt backs off longer
    server.opened[1]!.end();
    await vi.advanceTimersByTimeAsync(reconnectDelay(1) - 1);
    expect(server.opened).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(server.opened).toHaveLength(3);

    server.opened[2]!.push({ type: "server.connected" });
    await vi.advanceTimersByTimeAsync(0);
    expect(states).toEqual(["open", "down", "open"]);
    stream.stop();
    expect([0, 1, 2, 3, 20].map(reconnectDelay)).toEqual([250, 500, 1000, 2000, 10_000]); // capped at 10 s
  });

  it("wake() reconnects at once when down or stale, and leaves a fresh stream alone", async () => {
    const server = fakeServer();
    const stream = new EventStream({ open: server.open, onEvent: () => undefined });
    stream.start();
    await vi.advanceTimersByTimeAsync(0);
    server.opened[0]!.push({ type: "server.connected" });
    await vi.advanceTimersByTimeAsync(0);
    expect(stream.wake()).toBe("fresh");

    stream.drop(); // e.g. the browser went offline
    expect(stream.state).toBe("down");
    expect(stream.wake()).toBe("reconnecting");
    await vi.advanceTimersByTimeAsync(0);
    expect(server.opened).toHaveLength(2);
    server.opened[1]!.push({ type: "server.connected" });
    await vi.advanceTimersByTimeAsync(0);

    // the page slept: the last frame is old, so the connection is not trusted
    expect(stream.wake(Date.now() + 20_000)).toBe("reconnecting");
    await vi.advanceTimersByTimeAsync(0);
    expect(server.opened).toHaveLength(3);
    expect(server.opened[1]!.signal.aborted).toBe(true);
    stream.stop();
    expect(server.opened[2]!.signal.aborted).toBe(true);
  });

  it("wake() leaves an attempt in flight alone (its watchdog guards it)", async () => {
    const server = fakeServer();
    const stream = new EventStream({ open: server.open, onEvent: () => undefined });
    stream.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(stream.wake()).toBe("connecting");
    expect(server.opened).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(25_000);
    expect(stream.state).toBe("down");
    stream.stop();
  });

  it("stop() ends the stream for good", async () => {
    const server = fakeServer();
    const stream = new EventStream({ open: server.open, onEvent: () => undefined });
    stream.start();
    await vi.advanceTimersByTimeAsync(0);
    stream.stop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(server.opened).toHaveLength(1);
  });
});
