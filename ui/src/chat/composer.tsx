import { createSignal, onMount, Show } from "solid-js";
import { api, json } from "../lib/api.ts";
import { createAttachments } from "../lib/attachments.ts";
import { AttachButton, AttachmentStrip } from "./attach-button.tsx";
import type { ChatSession } from "./chat-session.ts";
import { DictateButton, insertAtCursor } from "./dictate-button.tsx";
import { loadDraft, saveDraft } from "./outbox.ts";

const MAX_ROWS_PX = 160;

/**
 * The prompt box: draft kept per chat, images (picked or pasted) and dictation, Send always (queued
 * while busy), Stop while the agent works.
 */
export function Composer(props: { chatId: string; session: ChatSession; busy: boolean }) {
  const [text, setText] = createSignal(loadDraft(props.chatId));
  const [stopping, setStopping] = createSignal(false);
  const [stopError, setStopError] = createSignal<string>();
  const attachments = createAttachments();
  let area: HTMLTextAreaElement | undefined;
  const coarse = window.matchMedia("(pointer: coarse)").matches;

  const fit = () => {
    if (!area) return;
    area.style.height = "auto";
    area.style.height = `${Math.min(area.scrollHeight + 2, MAX_ROWS_PX)}px`;
  };
  onMount(fit);

  // The worker needs text with every prompt: images alone wait for a word about them.
  const canSend = () => !!text().trim() && !attachments.busy();
  const send = () => {
    const value = text().trim();
    if (!canSend()) return;
    const files = attachments.items();
    setText("");
    saveDraft(props.chatId, "");
    attachments.clear();
    queueMicrotask(fit);
    void props.session.outbox.send(value, files);
  };

  const stop = async () => {
    setStopping(true);
    setStopError(undefined);
    try {
      await json(api.api.chats[":id"].abort.$post({ param: { id: props.chatId } }));
    } catch (err) {
      setStopError(`Could not stop: ${(err as Error).message}`);
    } finally {
      setStopping(false);
    }
  };

  return (
    <form class="composer" onSubmit={(e) => (e.preventDefault(), send())}>
      <Show when={stopError() ?? attachments.error()}>{(e) => <div class="composer-error" role="alert">{e()}</div>}</Show>
      <AttachmentStrip attachments={attachments} />
      <div class="composer-row">
        <AttachButton onFiles={attachments.add} />
        <textarea
          ref={area}
          rows={1}
          value={text()}
          placeholder={attachments.items().length ? "Say what to do with it…" : props.busy ? "Queue a follow-up…" : "Message the agent…"}
          aria-label="Message"
          enterkeyhint={coarse ? "enter" : "send"}
          onInput={(e) => {
            setText(e.currentTarget.value);
            saveDraft(props.chatId, e.currentTarget.value);
            fit();
          }}
          onPaste={(e) => attachments.paste(e)}
          onKeyDown={(e) => {
            if (e.key === "Enter" && !e.shiftKey && !coarse && !e.isComposing) {
              e.preventDefault();
              send();
            }
          }}
        />
        <DictateButton onText={(t) => area && insertAtCursor(area, t)} />
        <Show when={props.busy}>
          <button type="button" class="stop danger" disabled={stopping()} onClick={stop} aria-label="Stop the agent">
            <span aria-hidden="true">■</span><span class="stop-label">Stop</span>
          </button>
        </Show>
        <button type="submit" class="primary send" disabled={!canSend()} aria-label={props.busy ? "Queue message" : "Send"}>
          <span aria-hidden="true">↑</span>
        </button>
      </div>
    </form>
  );
}
