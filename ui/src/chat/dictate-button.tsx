import { createSignal, onCleanup, Show } from "solid-js";
import "./phone-inputs.css";

// The Web Speech API is not in TypeScript's DOM lib yet; this is the part used here.
type Recognition = {
  lang: string;
  continuous: boolean;
  interimResults: boolean;
  onresult: ((e: { resultIndex: number; results: ArrayLike<ArrayLike<{ transcript: string }> & { isFinal: boolean }> }) => void) | null;
  onerror: ((e: { error: string }) => void) | null;
  onend: (() => void) | null;
  start(): void;
  stop(): void;
  abort(): void;
};
type RecognitionClass = new () => Recognition;

const recognitionClass = (): RecognitionClass | undefined => {
  const w = window as unknown as { SpeechRecognition?: RecognitionClass; webkitSpeechRecognition?: RecognitionClass };
  return w.SpeechRecognition ?? w.webkitSpeechRecognition;
};

const ERROR_SHOWN_MS = 6_000;
const ERRORS: Record<string, string> = {
  "not-allowed": "Microphone access is blocked for this site.",
  "service-not-allowed": "Dictation is not allowed in this browser.",
  "audio-capture": "No microphone found.",
  network: "Dictation needs a network connection.",
  "no-speech": "Heard nothing: tap the mic and speak.",
};

/**
 * Puts text into a textarea where its caret is (replacing a selection), with a space on either side
 * as the words around it need, and fires `input` so the textarea's own handlers see the change.
 */
export function insertAtCursor(el: HTMLTextAreaElement, text: string): void {
  const words = text.trim();
  if (!words) return;
  const start = el.selectionStart ?? el.value.length;
  const end = el.selectionEnd ?? start;
  const before = el.value.slice(0, start);
  const after = el.value.slice(end);
  const lead = before && !/\s$/.test(before) ? " " : "";
  const trail = after && !/^[\s.,;:!?]/.test(after) ? " " : "";
  const piece = lead + words + trail;
  el.value = before + piece + after;
  const caret = start + lead.length + words.length;
  el.setSelectionRange(caret, caret);
  el.dispatchEvent(new Event("input", { bubbles: true }));
}

export interface DictateButtonProps {
  /** Each final phrase, once; e.g. `(t) => insertAtCursor(textarea, t)`. */
  onText: (text: string) => void;
  disabled?: boolean;
}

/** A mic button (absent where the browser has no speech recognition); words heard so far float above it. */
export function DictateButton(props: DictateButtonProps) {
  const Recognition = recognitionClass();
  const [listening, setListening] = createSignal(false);
  const [interim, setInterim] = createSignal("");
  const [error, setError] = createSignal<string>();
  let rec: Recognition | undefined;
  onCleanup(() => rec?.abort());

  const start = () => {
    if (!Recognition) return;
    setError(undefined);
    setInterim("");
    const r = new Recognition();
    r.lang = navigator.language;
    r.continuous = false; // one phrase per tap: Android's continuous mode repeats results
    r.interimResults = true;
    r.onresult = (e) => {
      let heard = "";
      for (let i = e.resultIndex; i < e.results.length; i++) {
        const result = e.results[i];
        const words = result?.[0]?.transcript ?? "";
        if (result?.isFinal) props.onText(words);
        else heard += words;
      }
      setInterim(heard);
    };
    r.onerror = (e) => {
      if (e.error === "aborted") return;
      const message = ERRORS[e.error] ?? `Dictation failed (${e.error}).`;
      setError(message);
      setTimeout(() => setError((now) => (now === message ? undefined : now)), ERROR_SHOWN_MS);
    };
    r.onend = () => {
      setListening(false);
      setInterim("");
      if (rec === r) rec = undefined;
    };
    rec = r;
    try {
      r.start();
      setListening(true);
    } catch (err) {
      rec = undefined;
      setError(`Dictation failed: ${(err as Error).message}`);
    }
  };

  return (
    <Show when={Recognition}>
      <span class="dictate">
        <Show when={interim() || error()}>
          <span class="dictate-bubble" classList={{ bad: !!error() && !interim() }} role="status">{interim() || error()}</span>
        </Show>
        <button
          type="button"
          class="mic"
          classList={{ on: listening() }}
          disabled={props.disabled}
          aria-pressed={listening()}
          aria-label={listening() ? "Stop dictation" : "Dictate"}
          title={listening() ? "Stop dictation" : "Dictate"}
          onMouseDown={(e) => e.preventDefault() /* the textarea keeps its focus, caret and keyboard */}
          onClick={() => (listening() ? rec?.stop() : start())}
        >
          <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">
            <rect x="9" y="3" width="6" height="11" rx="3" />
            <path d="M5 11a7 7 0 0 0 14 0M12 18v3" />
          </svg>
        </button>
      </span>
    </Show>
  );
}
