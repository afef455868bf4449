import type { Message, Part, PermissionRequest, QuestionRequest, SessionStatus, Todo } from "@opencode-ai/sdk/v2/client";

export type Entry = { id: string; info: Message; parts: Part[] };
export type Transcript = {
  sessionID: string;
  title?: string;
  messages: Entry[];
  status: SessionStatus;
  todos: Todo[];
  permissions: PermissionRequest[];
  questions: QuestionRequest[];
  /** Parts whose text a resync reset mid-stream: their deltas are ignored until the part's next snapshot. */
  stale: string[];
  error?: string;
  olderCursor?: string;
  loaded: boolean;
};
export type Snapshot = {
  messages: Array<{ info: Message; parts: Part[] }>;
  olderCursor?: string;
  status: SessionStatus;
  todos: Todo[];
  permissions: PermissionRequest[];
  questions: QuestionRequest[];
  title?: string;
};
/** What an opencode `/event` frame carries; anything else is ignored. */
export type OcEvent = { type: string; properties?: unknown };

export const emptyTranscript = (sessionID: string): Transcript => ({
  sessionID, messages: [], status: { type: "idle" }, todos: [], permissions: [], questions: [], stale: [], loaded: false,
});

// opencode's message and part ids are ascending (time-prefixed hex of fixed width), so string order is creation order.
const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

function upsert<T extends { id: string }>(list: T[], item: T, sorted = true): T[] {
  const i = list.findIndex((x) => x.id === item.id);
  if (i >= 0) return list.map((x, j) => (j === i ? item : x));
  const next = [...list, item];
  return sorted ? next.sort(byId) : next;
}

const without = <T extends { id: string }>(list: T[], id: string) => (list.some((x) => x.id === id) ? list.filter((x) => x.id !== id) : list);

function withEntry(t: Transcript, messageID: string, change: (e: Entry) => Entry): Transcript {
  const i = t.messages.findIndex((m) => m.id === messageID);
  if (i < 0) return t;
  const next = change(t.messages[i]!);
  if (next === t.messages[i]) return t;
  return { ...t, messages: t.messages.map((m, j) => (j === i ? next : m)) };
}

function isStreamingText(part: Part): boolean {
  return (part.type === "text" || part.type === "reasoning") && !part.time?.end;
}

/** Applies one live event (OPENCODE.md §4.4). Returns `t` itself when the event changes nothing. */
export function applyEvent(t: Transcript, ev: OcEvent): Transcript {
  const p = (ev.properties ?? {}) as Record<string, unknown>;
  const mine = p.sessionID === t.sessionID;
  switch (ev.type) {
    case "message.updated": {
      const info = p.info as Message;
      if (!mine || !info?.id) return t;
      const existing = t.messages.find((m) => m.id === info.id);
      return { ...t, messages: upsert(t.messages, { id: info.id, info, parts: existing?.parts ?? [] }) };
    }
    case "message.removed":
      return mine ? { ...t, messages: without(t.messages, p.messageID as string) } : t;
    case "message.part.updated": {
      const part = p.part as Part;
      if (!mine || !part?.id) return t;
      const next = withEntry(t, part.messageID, (e) => ({ ...e, parts: upsert(e.parts, part) }));
      return t.stale.includes(part.id) ? { ...next, stale: t.stale.filter((id) => id !== part.id) } : next;
    }
    case "message.part.removed":
      return mine ? withEntry(t, p.messageID as string, (e) => ({ ...e, parts: without(e.parts, p.partID as string) })) : t;
    case "message.part.delta": {
      const { messageID, partID, field, delta } = p as { messageID: string; partID: string; field: string; delta: string };
      if (!mine || t.stale.includes(partID) || typeof delta !== "string") return t;
      return withEntry(t, messageID, (e) => {
        const i = e.parts.findIndex((x) => x.id === partID);
        const part = e.parts[i] as Record<string, unknown> | undefined;
        if (!part || typeof part[field] !== "string") return e;
        const updated = { ...part, [field]: (part[field] as string) + delta } as unknown as Part;
        return { ...e, parts: e.parts.map((x, j) => (j === i ? updated : x)) };
      });
    }
    case "session.status": {
      if (!mine) return t;
      const status = p.status as SessionStatus;
      return { ...t, status, error: status.type === "busy" ? undefined : t.error };
    }
    case "session.idle":
      return mine ? { ...t, status: { type: "idle" } } : t;
    case "session.updated": {
      const info = p.info as { title?: string } | undefined;
      return mine && info?.title ? { ...t, title: info.title } : t;
    }
    case "session.error": {
      if (p.sessionID !== undefined && !mine) return t;
      const error = p.error as { name?: string; data?: { message?: string } } | undefined;
      if (!error || error.name === "MessageAbortedError") return t;
      return { ...t, error: error.data?.message || error.name || "the run failed" };
    }
    case "todo.updated":
      return mine ? { ...t, todos: (p.todos as Todo[]) ?? [] } : t;
    // Pending requests are not filtered by session: the stream is this chat's own worktree, and a
    // subagent's (child session's) request blocks the chat just the same.
    case "permission.asked":
      return { ...t, permissions: upsert(t.permissions, p as unknown as PermissionRequest, false) };
    case "permission.replied":
      return { ...t, permissions: without(t.permissions, p.requestID as string) };
    case "question.asked":
      return { ...t, questions: upsert(t.questions, p as unknown as QuestionRequest, false) };
    case "question.replied":
    case "question.rejected":
      return { ...t, questions: without(t.questions, p.requestID as string) };
    default:
      return t;
  }
}

/**
 * Replaces the state with a fresh fetch (after every reconnect). Older pages loaded before stay, as
 * long as they are older than the snapshot's window. Text still streaming is stored empty until
 * text-end, so such parts are marked stale: their deltas would only append to a fragment.
 */
export function applySnapshot(t: Transcript, snap: Snapshot): Transcript {
  const fresh = snap.messages.map((m) => ({ id: m.info.id, info: m.info, parts: [...m.parts].sort(byId) })).sort(byId);
  const first = fresh[0]?.id;
  const older = first ? t.messages.filter((m) => m.id < first) : [];
  const stale = fresh.flatMap((m) => m.parts.filter(isStreamingText).map((part) => part.id));
  return {
    ...t,
    title: snap.title ?? t.title,
    messages: [...older, ...fresh],
    olderCursor: older.length > 0 ? t.olderCursor : snap.olderCursor,
    status: snap.status,
    todos: snap.todos,
    permissions: snap.permissions,
    questions: snap.questions,
    stale,
    error: snap.status.type === "busy" ? undefined : t.error,
    loaded: true,
  };
}

/** Adds an older page (the `before` cursor) in front. */
export function prependOlder(t: Transcript, page: Array<{ info: Message; parts: Part[] }>, cursor: string | undefined): Transcript {
  const have = new Set(t.messages.map((m) => m.id));
  const older = page.filter((m) => !have.has(m.info.id)).map((m) => ({ id: m.info.id, info: m.info, parts: m.parts }));
  return { ...t, messages: [...older, ...t.messages].sort(byId), olderCursor: cursor };
}

/** The ids ocweb's box tagged the user's prompts with (box/chats/prompt-pump.ts). */
export function deliveredPromptIds(t: Transcript): Set<string> {
  const ids = new Set<string>();
  for (const m of t.messages) {
    if (m.info.role !== "user") continue;
    for (const part of m.parts) {
      const id = part.type === "text" ? part.metadata?.ocwebPromptId : undefined;
      if (typeof id === "string") ids.add(id);
    }
  }
  return ids;
}

export const isBusy = (t: Transcript) => t.status.type !== "idle";
