import { createSignal } from "solid-js";
import { api, ApiFailure, json } from "../lib/api.ts";
import { storable, type Attachment } from "../lib/attachments.ts";
import { newUlid } from "../lib/format.ts";
import { load, save } from "../lib/storage.ts";

/** A prompt typed in this chat that the worker has not accepted yet (kept in localStorage). */
export type LocalPrompt = { promptId: string; text: string; files?: Attachment[]; createdAt: number; error?: string; refused?: boolean };
/** A prompt as the worker's outbox shows it. */
export type ServerPrompt = { id: string; text: string; state: "queued" | "sent" | "failed"; error?: string; createdAt: string };

export const loadDraft = (chatId: string) => load<string>(`chat.${chatId}.draft`) ?? "";
export const saveDraft = (chatId: string, text: string) => save(`chat.${chatId}.draft`, text.trim() ? text : undefined);

/** A prompt whose images were too big to keep across the reload waits for the user instead of going without them. */
function restore(p: LocalPrompt & { filesDropped?: number }): LocalPrompt {
  const { filesDropped, ...rest } = p;
  if (!filesDropped) return rest;
  const error = `${filesDropped === 1 ? "its image was" : `its ${filesDropped} images were`} too big to keep offline: Retry sends the text alone`;
  return { ...rest, files: undefined, error, refused: true };
}

/**
 * Sends survive offline: a prompt is saved before the request goes out and retried (same promptId,
 * so the worker takes it once) until the worker answers; a refusal (4xx) is kept with its reason.
 */
export function createOutbox(chatId: string, onAccepted: (p: ServerPrompt) => void) {
  const key = `chat.${chatId}.outbox`;
  const [items, setItems] = createSignal<LocalPrompt[]>((load<Array<LocalPrompt & { filesDropped?: number }>>(key) ?? []).map(restore));
  const update = (fn: (all: LocalPrompt[]) => LocalPrompt[]) => {
    const next = fn(items());
    save(key, next.length ? storable(next) : undefined);
    setItems(next);
  };
  let flushing: Promise<void> | undefined;

  async function deliver(p: LocalPrompt): Promise<void> {
    try {
      const res = await json<{ prompt: ServerPrompt }>(
        api.api.chats[":id"].prompts.$post({ param: { id: chatId }, json: { promptId: p.promptId, text: p.text, ...(p.files?.length ? { files: p.files } : {}) } }),
      );
      update((all) => all.filter((x) => x.promptId !== p.promptId));
      onAccepted(res.prompt);
    } catch (err) {
      const refused = err instanceof ApiFailure && err.status >= 400 && err.status < 500 && err.status !== 401 && err.status !== 408;
      const error = refused ? (err as ApiFailure).message : "not sent yet — will retry";
      update((all) => all.map((x) => (x.promptId === p.promptId ? { ...x, error, refused } : x)));
    }
  }

  function flush(): Promise<void> {
    flushing ??= (async () => {
      const tried = new Set<string>();
      for (;;) {
        const next = items().find((x) => !x.refused && !tried.has(x.promptId));
        if (!next) return;
        tried.add(next.promptId);
        await deliver(next);
      }
    })().finally(() => (flushing = undefined));
    return flushing;
  }

  return {
    items,
    flush,
    send(text: string, files: Attachment[] = []): Promise<void> {
      const p: LocalPrompt = { promptId: newUlid(), text, ...(files.length ? { files } : {}), createdAt: Date.now() };
      update((all) => [...all, p]);
      return flush();
    },
    retry(promptId: string): Promise<void> {
      update((all) => all.map((x) => (x.promptId === promptId ? { ...x, refused: false, error: undefined } : x)));
      return flush();
    },
    discard(promptId: string): void {
      update((all) => all.filter((x) => x.promptId !== promptId));
    },
  };
}
