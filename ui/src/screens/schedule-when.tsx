import { createSignal, For, onCleanup, Show } from "solid-js";
import { api, json } from "../lib/api.ts";
import { createLoad } from "../lib/load.ts";
import { PRESETS, type PresetId, runTime } from "./schedule-presets.ts";

export type When = PresetId | "custom";
const DEBOUNCE_MS = 300;
const SHOWN = 3;

const preview = (cron: string) => (cron ? json<{ next: string[] }>(api.api.schedules.preview.$post({ json: { cron } })) : Promise.resolve(undefined));

/** Presets in the phone's time, or a custom UTC cron; either way the next runs, live, in local time. */
export function WhenPicker(props: { when: When; custom: string; cron: string; onWhen: (w: When) => void; onCustom: (c: string) => void }) {
  const [debounced, setDebounced] = createSignal(props.cron);
  let timer: ReturnType<typeof setTimeout> | undefined;
  onCleanup(() => clearTimeout(timer));
  const settle = (cron: string, now = false) => {
    clearTimeout(timer);
    if (now) setDebounced(cron);
    else timer = setTimeout(() => setDebounced(cron), DEBOUNCE_MS);
  };
  const next = createLoad(() => props.cron && (props.when === "custom" ? debounced() : props.cron), preview);
  const pick = (w: When) => {
    props.onWhen(w);
    settle(props.cron, true);
  };
  return (
    <fieldset class="when">
      <legend>When</legend>
      <div class="when-options">
        <For each={[...PRESETS, { id: "custom" as const, label: "Custom (cron)" }]}>
          {(p) => (
            <label class="choice">
              <input type="radio" name="when" value={p.id} checked={props.when === p.id} onChange={() => pick(p.id)} />
              <span>{p.label}</span>
            </label>
          )}
        </For>
      </div>
      <Show when={props.when === "custom"}>
        <label class="visually-hidden" for="cron">Cron expression (UTC)</label>
        <input
          id="cron"
          class="mono"
          placeholder="minute hour day month weekday, e.g. 30 6 * * 1"
          autocomplete="off"
          autocapitalize="off"
          spellcheck={false}
          value={props.custom}
          onInput={(e) => {
            props.onCustom(e.currentTarget.value);
            settle(e.currentTarget.value.trim());
          }}
        />
      </Show>
      <div class="preview" aria-live="polite" aria-busy={next.loading()}>
        <Show when={next.error()}>
          <p class="notice bad" role="alert">{next.error()!.message.replace(/^invalid json: /, "")}</p>
        </Show>
        <Show when={!next.error() && next.data()}>
          {(d) => (
            <>
              <p class="preview-title">Next runs</p>
              <ol class="next-runs">
                <For each={d().next.slice(0, SHOWN)}>{(at) => <li><time datetime={at}>{runTime(at)}</time></li>}</For>
              </ol>
            </>
          )}
        </Show>
        <Show when={props.cron && !next.error()}>
          <p class="muted small">
            Runs as <code class="mono">{props.cron}</code> in UTC{props.when === "custom" ? "" : "; times above are yours"}.
          </p>
        </Show>
      </div>
    </fieldset>
  );
}
