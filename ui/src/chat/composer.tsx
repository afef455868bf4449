import { createSignal, onMount, Show } from "solid-js";
import { api, json } from "../lib/api.ts";
import { loadDraft, saveDraft } from "./outbox.ts";
import type { ChatSession } from "./chat-session.ts";

const MAX_ROWS_PX = 160;

/** The prompt box: draft kept per chat, Send always (queued while busy), Stop while the agent works. */
export function Composer(props: { chatId: string; session: ChatSession; busy: boolean }) {
  const [text, setText] = createSignal(loadDraft(props.chatId));
  const [stopping, setStopping] = createSignal(false);
  const [stopError, setStopError] = createSignal<string>();
  let area: HTMLTextAreaElement | undefined;
  const coarse = window.matchMedia("(pointer: coarse)").matches;

  const fit = () => {
    if (!area) return;
    area.style.height = "auto";
    area.style.height = `${Math.min(area.scrollHeight + 2, MAX_ROWS_PX)}px`;
  };
  onMount(fit);

  const send = () => {
    const value = text().trim();
    if (!value) return;
    setText("");
    saveDraft(props.chatId, "");
    queueMicrotask(fit);
    void props.session.outbox.send(value);
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
      <Show when={stopError()}>{(e) => <div class="composer-error" role="alert">{e()}</div>}</Show>
      <div class="composer-row">
        <textarea
          ref={area}
          rows={1}
          value={text()}
          placeholder={props.busy ? "Queue a follow-up…" : "Message the agent…"}
          aria-label="Message"
          enterkeyhint={coarse ? "enter" : "send"}
          onInput={(e) => {
            setText(e.currentTarget.value);
            saveDraft(props.chatId, e.currentTarget.value);
            fit();
          }}
          onKeyDown={(e) => {
            if (e.key === "Enter" && !e.shiftKey && !coarse && !e.isComposing) {
              e.preventDefault();
              send();
            }
          }}
        />
        <Show when={props.busy}>
          <button type="button" class="stop danger" disabled={stopping()} onClick={stop} aria-label="Stop the agent">
            <span aria-hidden="true">■</span> Stop
          </button>
        </Show>
        <button type="submit" class="primary send" disabled={!text().trim()} aria-label={props.busy ? "Queue message" : "Send"}>
          <span aria-hidden="true">↑</span>
        </button>
      </div>
    </form>
  );
}
