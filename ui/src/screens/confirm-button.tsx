import { createSignal, Show } from "solid-js";

/** A destructive action in two taps: the first asks, the second does it. No modal, no surprise. */
export function ConfirmButton(props: { label: string; confirmLabel: string; subject: string; onConfirm: () => Promise<void> }) {
  const [asking, setAsking] = createSignal(false);
  const [busy, setBusy] = createSignal(false);
  const confirm = async () => {
    setBusy(true);
    try {
      await props.onConfirm();
    } finally {
      setBusy(false);
      setAsking(false);
    }
  };
  return (
    <Show
      when={asking()}
      fallback={
        <button type="button" class="danger" aria-label={`${props.label} ${props.subject}`} onClick={() => setAsking(true)}>
          {props.label}
        </button>
      }
    >
      <span class="confirm" role="group" aria-label={`${props.label} ${props.subject}?`}>
        <button type="button" class="danger-solid" disabled={busy()} onClick={() => void confirm()}>
          {busy() ? "…" : props.confirmLabel}
        </button>
        <button type="button" disabled={busy()} onClick={() => setAsking(false)}>
          Cancel
        </button>
      </span>
    </Show>
  );
}
