import { For, Show } from "solid-js";

export type Providers = { providers: Array<{ id: string; name?: string; models: Record<string, { id: string; name?: string }> }>; default: Record<string, string> };
export const MAX_ATTEMPTS = 4;

/** "attempts − 2 +": one prompt, up to four chats side by side. */
export function AttemptsStepper(props: { value: number; onChange: (n: number) => void }) {
  return (
    <div class="line stepper" role="group" aria-label="Attempts">
      <span class="line-label">attempts</span>
      <button type="button" class="step" aria-label="Fewer attempts" disabled={props.value <= 1} onClick={() => props.onChange(props.value - 1)}>
        −
      </button>
      <output class="line-value" aria-live="polite">{props.value}</output>
      <button type="button" class="step" aria-label="More attempts" disabled={props.value >= MAX_ATTEMPTS} onClick={() => props.onChange(props.value + 1)}>
        +
      </button>
    </div>
  );
}

/** One line: a model for the chat (or for one attempt); "" = the box's default. */
export function ModelSelect(props: { label: string; ariaLabel: string; value?: string; providers?: Providers; defaultText: string; onChange: (model?: string) => void }) {
  return (
    <label class="line">
      <span class="line-label">{props.label}</span>
      <select aria-label={props.ariaLabel} onChange={(e) => props.onChange(e.currentTarget.value || undefined)}>
        <option value="">{props.defaultText}</option>
        <For each={props.providers?.providers ?? []}>
          {(p) => (
            <optgroup label={p.name ?? p.id}>
              <For each={Object.values(p.models)}>{(m) => <option value={`${p.id}/${m.id}`} selected={props.value === `${p.id}/${m.id}`}>{m.name ?? m.id}</option>}</For>
            </optgroup>
          )}
        </For>
      </select>
    </label>
  );
}

/** The default model's display name, from opencode's providers answer. */
export function defaultModelName(p: Providers | undefined): string | undefined {
  const provider = p?.providers.find((x) => p.default[x.id]);
  const model = provider?.models[p?.default[provider.id] ?? ""];
  return model ? (model.name ?? model.id) : undefined;
}

/** A model line per attempt (one "Model" line for a single chat). */
export function AttemptModels(props: { count: number; modelOf: (i: number) => string | undefined; onChange: (i: number, model?: string) => void; providers?: Providers; defaultText: string }) {
  return (
    <Show
      when={props.count > 1}
      fallback={<ModelSelect label="model" ariaLabel="Model" value={props.modelOf(0)} providers={props.providers} defaultText={props.defaultText} onChange={(m) => props.onChange(0, m)} />}
    >
      <div class="attempt-models">
        <For each={Array.from({ length: props.count }, (_, i) => i)}>
          {(i) => (
            <ModelSelect label={`model ${i + 1}`} ariaLabel={`Model for attempt ${i + 1}`} value={props.modelOf(i)} providers={props.providers} defaultText={props.defaultText} onChange={(m) => props.onChange(i, m)} />
          )}
        </For>
      </div>
    </Show>
  );
}

export type BoxChoice = { id: string; name: string; health: string; retired: boolean };
export type Boxes = { boxes: BoxChoice[]; defaultBox?: string };

/** Boxes a chat can go to: not retired and registered (or the env box). */
export const liveBoxesOf = (list?: Boxes) => list?.boxes.filter((b) => !b.retired && b.health !== "pending") ?? [];

/**
 * The box the picker shows, only to someone with two or more: the draft's while it is live, else the
 * default. It is then sent as is, since the worker's default may move between live boxes.
 */
export function boxOnScreen(list: Boxes | undefined, wanted?: string): string | undefined {
  const live = liveBoxesOf(list);
  if (live.length < 2) return undefined;
  return live.some((b) => b.id === wanted) ? wanted : list?.defaultBox;
}

/** Which box runs the chat; shown only to someone with more than one live box. */
export function BoxSelect(props: { boxes: BoxChoice[]; value?: string; onChange: (id: string) => void }) {
  return (
    <label class="line">
      <span class="line-label">box</span>
      <select aria-label="Box" onChange={(e) => props.onChange(e.currentTarget.value)}>
        <For each={props.boxes}>
          {(b) => <option value={b.id} selected={b.id === props.value}>{b.health === "ok" ? b.name : `${b.name} (offline)`}</option>}
        </For>
      </select>
    </label>
  );
}
