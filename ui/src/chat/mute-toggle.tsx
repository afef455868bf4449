import { createSignal, Show } from "solid-js";
import { api, json } from "../lib/api.ts";
import { handleUnauthorized } from "../lib/session.ts";
import { Icon } from "../screens/shell.tsx";

const BELL = "M18 8a6 6 0 0 0-12 0c0 7-3 9-3 9h18s-3-2-3-9M13.73 21a2 2 0 0 1-3.46 0";
const BELL_OFF = "M13.73 21a2 2 0 0 1-3.46 0M18.63 13A17.9 17.9 0 0 1 18 8M6.26 6.26A5.9 5.9 0 0 0 6 8c0 7-3 9-3 9h14M18 8a6 6 0 0 0-9.33-5M1 1l22 22";

/** The chat header's bell: mutes this chat's push notifications (PATCH {muted}); a failed save flips it back. */
export function MuteToggle(props: { chatId: string; muted: boolean }) {
  const [mine, setMine] = createSignal<boolean>();
  const [busy, setBusy] = createSignal(false);
  const [failed, setFailed] = createSignal(false);
  const muted = () => mine() ?? props.muted;
  const toggle = async () => {
    const next = !muted();
    setBusy(true);
    setFailed(false);
    setMine(next);
    try {
      await json(api.api.chats[":id"].$patch({ param: { id: props.chatId }, json: { muted: next } }));
    } catch (err) {
      setMine(!next);
      if (!handleUnauthorized(err)) setFailed(true);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <button
        type="button"
        class="icon-button"
        classList={{ muted: muted() }}
        style={{ border: "0", background: "none", padding: "0" }}
        aria-pressed={muted()}
        aria-label="Mute notifications for this chat"
        title={muted() ? "Notifications muted for this chat" : "Notifications on for this chat"}
        disabled={busy()}
        onClick={() => void toggle()}
      >
        <Icon path={muted() ? BELL_OFF : BELL} />
      </button>
      <Show when={failed()}>
        <span class="error-text" style={{ "font-size": "12px" }} role="alert">not saved</span>
      </Show>
    </>
  );
}
