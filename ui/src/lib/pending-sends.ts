import type { InferRequestType } from "hono/client";
import { createSignal } from "solid-js";
import { api, ApiFailure, json } from "./api.ts";
import { storable, type Attachment } from "./attachments.ts";
import { addChat, refreshChats, type Chat } from "./chats-store.ts";
import { handleUnauthorized } from "./session.ts";
import { load, save } from "./storage.ts";

type CreateBody = InferRequestType<typeof api.api.chats.$post>["json"];
/** A new chat the worker has not confirmed yet; kept until it has (or refuses it for good). */
export type PendingSend = { promptId: string; repo: string; base?: string; model?: string; boxId?: string; text: string; files?: Attachment[]; createdAt: string; error?: string };

// Images too big to keep across a reload: the send waits for the user rather than going without them.
const restore = ({ filesDropped, ...p }: PendingSend & { filesDropped?: number }): PendingSend =>
  filesDropped ? { ...p, files: undefined, error: p.error ?? "its images were too big to keep offline: discard it and attach them again" } : p;
const [pending, setPending] = createSignal<PendingSend[]>((load<PendingSend[]>("pending") ?? []).map(restore));
export { pending };

function update(fn: (all: PendingSend[]) => PendingSend[]) {
  const next = fn(pending());
  save("pending", next.length ? storable(next) : undefined);
  setPending(next);
}

/** Kept before the request goes out, so a crash, a reload or no network loses nothing. */
export async function sendNewChat(input: Omit<PendingSend, "createdAt" | "error">): Promise<{ chat: Chat } | { queued: true }> {
  update((all) => [...all.filter((p) => p.promptId !== input.promptId), { ...input, createdAt: new Date().toISOString() }]);
  return deliver(input.promptId);
}

async function deliver(promptId: string): Promise<{ chat: Chat } | { queued: true }> {
  const p = pending().find((x) => x.promptId === promptId);
  if (!p) return { queued: true };
  const body: CreateBody = { repo: p.repo, prompt: { promptId: p.promptId, text: p.text, ...(p.files?.length ? { files: p.files } : {}) }, ...(p.base ? { base: p.base } : {}), ...(p.model ? { model: p.model } : {}), ...(p.boxId ? { boxId: p.boxId } : {}) };
  try {
    const res = await json<{ chat: Chat }>(api.api.chats.$post({ json: body }));
    update((all) => all.filter((x) => x.promptId !== promptId));
    addChat(res.chat);
    return res;
  } catch (err) {
    if (handleUnauthorized(err)) return { queued: true };
    // A 4xx will not get better by retrying: keep the text, show why, let the user discard it.
    if (err instanceof ApiFailure && err.status < 500) {
      update((all) => all.map((x) => (x.promptId === promptId ? { ...x, error: err.message } : x)));
      throw err;
    }
    return { queued: true };
  }
}

let flushing = false;
/** Retries every pending send that has not been refused; called when back online and on each refresh. */
export async function flushPending(): Promise<void> {
  if (flushing) return;
  flushing = true;
  try {
    let sent = false;
    for (const p of pending().filter((x) => !x.error)) {
      const res = await deliver(p.promptId).catch(() => undefined);
      if (res && "chat" in res) sent = true;
    }
    if (sent) await refreshChats();
  } finally {
    flushing = false;
  }
}

export function discardPending(promptId: string): void {
  update((all) => all.filter((x) => x.promptId !== promptId));
}
