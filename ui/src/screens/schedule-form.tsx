import type { InferResponseType } from "hono/client";
import { createEffect, createSignal, For, Show } from "solid-js";
import { api, json } from "../lib/api.ts";
import { createLoad } from "../lib/load.ts";
import { load, save } from "../lib/storage.ts";
import { BranchSelect } from "./branch-select.tsx";
import { RepoPicker } from "./repo-picker.tsx";
import { localOffset, presetCron, presetOf } from "./schedule-presets.ts";
import { type When, WhenPicker } from "./schedule-when.tsx";
import "./new-chat.css";

export type Schedule = InferResponseType<typeof api.api.schedules.$get, 200>["schedules"][number];
type Draft = { repo?: string; base?: string; prompt: string; when: When; custom: string; reuse: boolean; model?: string };
type Providers = { providers: Array<{ id: string; name?: string; models: Record<string, { id: string; name?: string }> }> };

const DRAFT_KEY = "draft.schedule";
const fresh = (): Draft => ({ prompt: "", when: "nightly", custom: "", reuse: false });
const fetchProviders = () => json<Providers>(fetch("/api/box/oc/config/providers"));

function fromSchedule(s: Schedule, offset: number): Draft {
  const preset = presetOf(s.cron, offset);
  return { repo: s.repo, base: s.base, prompt: s.prompt, when: preset ?? "custom", custom: preset ? "" : s.cron, reuse: s.reuse, model: s.model };
}

/** New schedule (repo first, then the rest) or an edit of one; the typed form survives a reload. */
export function ScheduleForm(props: { schedule?: Schedule; onSaved: (id: string) => void }) {
  const offset = localOffset();
  const editing = props.schedule;
  const [draft, setDraft] = createSignal<Draft>(editing ? fromSchedule(editing, offset) : (load<Draft>(DRAFT_KEY) ?? fresh()));
  if (!editing) createEffect(() => save(DRAFT_KEY, draft()));
  const patch = (p: Partial<Draft>) => setDraft((d) => ({ ...d, ...p }));
  const cron = () => (draft().when === "custom" ? draft().custom.trim().split(/\s+/).join(" ") : presetCron(draft().when as Exclude<When, "custom">, offset));
  const [saving, setSaving] = createSignal(false);
  const [error, setError] = createSignal<string>();

  const submit = async (e: Event) => {
    e.preventDefault();
    const d = draft();
    if (!d.repo || !d.prompt.trim() || saving()) return;
    setSaving(true);
    setError(undefined);
    try {
      const body = { prompt: d.prompt, cron: cron(), reuse: d.reuse };
      const res = editing
        ? await json<{ schedule: Schedule }>(api.api.schedules[":id"].$patch({ param: { id: editing.id }, json: { ...body, base: d.base ?? null, model: d.model ?? null } }))
        : await json<{ schedule: Schedule }>(api.api.schedules.$post({ json: { ...body, repo: d.repo, base: d.base, model: d.model } }));
      if (!editing) save(DRAFT_KEY, undefined);
      props.onSaved(res.schedule.id);
    } catch (err) {
      setError((err as Error).message.replace(/^invalid json: /, ""));
    } finally {
      setSaving(false);
    }
  };

  return (
    <Show when={draft().repo} fallback={<RepoPicker onPick={(repo) => patch({ repo, base: undefined })} />}>
      {(repo) => (
        <form class="schedule-form" onSubmit={(e) => void submit(e)}>
          <Show when={!editing} fallback={<p class="line"><span class="line-label">repo</span><span class="line-value">{repo()}</span></p>}>
            <button type="button" class="line" onClick={() => patch({ repo: undefined, base: undefined })} aria-label={`Repository ${repo()}: change`}>
              <span class="line-label">repo</span>
              <span class="line-value">{repo()}</span>
              <span class="line-action">change</span>
            </button>
          </Show>
          <label class="field-label" for="schedule-prompt">Prompt</label>
          <textarea id="schedule-prompt" placeholder="What should the agent do each time?" value={draft().prompt} onInput={(e) => patch({ prompt: e.currentTarget.value })} />
          <WhenPicker when={draft().when} custom={draft().custom} cron={cron()} onWhen={(when) => patch({ when })} onCustom={(custom) => patch({ custom })} />
          <fieldset class="when">
            <legend>Each run</legend>
            <label class="choice">
              <input type="radio" name="reuse" checked={!draft().reuse} onChange={() => patch({ reuse: false })} />
              <span>starts a new chat</span>
            </label>
            <label class="choice">
              <input type="radio" name="reuse" checked={draft().reuse} onChange={() => patch({ reuse: true })} />
              <span>continues one chat</span>
            </label>
          </fieldset>
          <Defaults repo={repo()} draft={draft()} patch={patch} />
          <Show when={error()}>
            <p class="notice bad" role="alert">{error()}</p>
          </Show>
          <button class="primary save" type="submit" disabled={saving() || !draft().prompt.trim() || !cron()}>
            {saving() ? "Saving…" : editing ? "Save changes" : "Create schedule"}
          </button>
        </form>
      )}
    </Show>
  );
}

/** Branch and model: one-line defaults, as on the new-chat screen. */
function Defaults(props: { repo: string; draft: Draft; patch: (p: Partial<Draft>) => void }) {
  const providers = createLoad(() => true, fetchProviders);
  return (
    <div class="defaults">
      <BranchSelect repo={props.repo} value={props.draft.base} onChange={(base) => props.patch({ base })} />
      <label class="line">
        <span class="line-label">model</span>
        <select aria-label="Model" onChange={(e) => props.patch({ model: e.currentTarget.value || undefined })}>
          <option value="">box default</option>
          <Show when={props.draft.model && !providers.data()}>
            <option value={props.draft.model} selected>{props.draft.model}</option>
          </Show>
          <For each={providers.data()?.providers ?? []}>
            {(p) => (
              <optgroup label={p.name ?? p.id}>
                <For each={Object.values(p.models)}>{(m) => <option value={`${p.id}/${m.id}`} selected={props.draft.model === `${p.id}/${m.id}`}>{m.name ?? m.id}</option>}</For>
              </optgroup>
            )}
          </For>
        </select>
      </label>
    </div>
  );
}
