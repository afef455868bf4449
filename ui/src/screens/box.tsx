import type { InferResponseType } from "hono/client";
import { createSignal, For, type JSX, Show } from "solid-js";
import { api, json } from "../lib/api.ts";
import { age, formatBytes } from "../lib/format.ts";
import { createLoad, type Loaded } from "../lib/load.ts";
import { now } from "../lib/media.ts";
import { ConfirmButton } from "./confirm-button.tsx";
import { type BoxList, BoxesSection, isLive } from "./boxes.tsx";
import { GcSection } from "./boxes-gc.tsx";
import "./box.css";

type Disk = { totalBytes: number; freeBytes: number; budgetBytes: number; reposBytes: number; worktreesBytes: number; opencodeBytes: number };
type Clone = { repo: string; defaultBranch: string; head: string; sizeBytes: number };
type Orphan = { pid: number; ppid: number; command: string; rssBytes: number; startedAt: string };

const always = () => true;
/** `?box=` of the dashboard calls; none: the worker's default box. */
type Query = { box?: string };

/** The boxes, then one box's dashboard: what uses the disk, what can go, and what runs that should not. */
export default function BoxScreen() {
  const list = createLoad(always, () => json<BoxList>(api.api.boxes.$get()));
  const [picked, setPicked] = createSignal<string>();
  const query = (): Query => (picked() ? { box: picked() } : {});
  const disk = createLoad(query, (q) => json<Disk>(api.api.box.disk.$get({ query: q })));
  const clones = createLoad(query, (q) => json<{ repos: Clone[] }>(api.api.box.repos.$get({ query: q })));
  const procs = createLoad(query, (q) => json<{ processes: Orphan[] }>(api.api.box.processes.$get({ query: q })));
  const reloadDisk = () => {
    disk.reload();
    clones.reload();
  };
  const live = () => list.data()?.boxes.filter(isLive) ?? [];
  const shown = () => picked() ?? list.data()?.defaultBox;
  return (
    <div class="box-screen">
      <BoxesSection list={list} onRetired={(id) => id === picked() && setPicked(undefined)} />
      <Show when={live().length > 1}>
        <label class="box-pick">
          <span class="muted">Dashboard of</span>
          <select aria-label="Box to show" onChange={(e) => setPicked(e.currentTarget.value)}>
            <For each={live()}>{(b) => <option value={b.id} selected={b.id === shown()}>{b.name}</option>}</For>
          </select>
        </label>
      </Show>
      <Card title="Disk" state={disk}>
        {(d) => <DiskGauge disk={d} />}
      </Card>
      <Card title="Clones" state={clones}>
        {(c) => <Clones repos={c.repos} query={query()} onChange={reloadDisk} />}
      </Card>
      <GcSection box={picked()} onDone={reloadDisk} />
      <Card title="Orphan processes" state={procs}>
        {(p) => <Processes list={p.processes} query={query()} onChange={procs.reload} />}
      </Card>
    </div>
  );
}

export function Card<T>(props: { title: string; state: Loaded<T>; children: (data: T) => JSX.Element }) {
  return (
    <section class="card" aria-labelledby={`card-${props.title}`} aria-busy={props.state.loading()}>
      <h2 id={`card-${props.title}`}>{props.title}</h2>
      <Show when={props.state.error()}>
        <p class="notice bad" role="alert">{props.state.error()?.message}</p>
      </Show>
      {/* keyed: each answer (a reload, another box) renders anew */}
      <Show when={props.state.data()} keyed fallback={<Show when={props.state.loading()}><p class="muted">Loading…</p></Show>}>
        {(d) => props.children(d)}
      </Show>
    </section>
  );
}

function DiskGauge(props: { disk: Disk }) {
  const used = () => props.disk.reposBytes + props.disk.worktreesBytes + props.disk.opencodeBytes;
  const pct = () => (props.disk.budgetBytes > 0 ? Math.min(100, Math.round((used() / props.disk.budgetBytes) * 100)) : 0);
  const level = () => (pct() >= 90 ? "bad" : pct() >= 70 ? "warn" : "ok");
  return (
    <>
      <div class="gauge" role="meter" aria-label="ocweb's disk use against its budget" aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct()} aria-valuetext={`${pct()}% of the budget`}>
        <div class="gauge-fill" data-level={level()} style={{ width: `${Math.max(pct(), 1)}%` }} />
      </div>
      <p class="gauge-text">
        <strong>{formatBytes(used())}</strong> used of a <strong>{formatBytes(props.disk.budgetBytes)}</strong> budget ({pct()}%)
      </p>
      <dl class="facts">
        <dt>clones</dt>
        <dd>{formatBytes(props.disk.reposBytes)}</dd>
        <dt>worktrees</dt>
        <dd>{formatBytes(props.disk.worktreesBytes)}</dd>
        <dt>opencode</dt>
        <dd>{formatBytes(props.disk.opencodeBytes)}</dd>
        <dt>volume free</dt>
        <dd>
          {formatBytes(props.disk.freeBytes)} of {formatBytes(props.disk.totalBytes)}
        </dd>
      </dl>
    </>
  );
}

function Clones(props: { repos: Clone[]; query: Query; onChange: () => void }) {
  const [error, setError] = createSignal<string>();
  const remove = async (repo: string) => {
    setError(undefined);
    const [owner = "", name = ""] = repo.split("/");
    await json(api.api.box.repos[":owner"][":name"].$delete({ param: { owner, name }, query: props.query })).then(props.onChange, (err: Error) => setError(err.message));
  };
  return (
    <>
      <Show when={error()}>
        <p class="notice bad" role="alert">{error()}</p>
      </Show>
      <Show when={props.repos.length > 0} fallback={<p class="muted">No clones on the box yet.</p>}>
        <ul class="items">
          <For each={props.repos}>
            {(r) => (
              <li class="item">
                <span class="item-main">
                  <span class="item-title">{r.repo}</span>
                  <span class="muted small">
                    {formatBytes(r.sizeBytes)} · {r.defaultBranch} @ <span class="mono">{r.head.slice(0, 7)}</span>
                  </span>
                </span>
                <ConfirmButton label="Delete" confirmLabel="Delete clone" subject={r.repo} onConfirm={() => remove(r.repo)} />
              </li>
            )}
          </For>
        </ul>
      </Show>
    </>
  );
}

function Processes(props: { list: Orphan[]; query: Query; onChange: () => void }) {
  const [error, setError] = createSignal<string>();
  const kill = async (pid: number) => {
    setError(undefined);
    await json(api.api.box.processes[":pid"].kill.$post({ param: { pid: String(pid) }, query: props.query })).then(props.onChange, (err: Error) => setError(err.message));
  };
  return (
    <>
      <Show when={error()}>
        <p class="notice bad" role="alert">{error()}</p>
      </Show>
      <Show when={props.list.length > 0} fallback={<p class="muted">No orphan processes: nothing runs that ocweb did not start.</p>}>
        <ul class="items">
          <For each={props.list}>
            {(p) => (
              <li class="item">
                <span class="item-main">
                  <span class="item-title mono" title={p.command}>{p.command}</span>
                  <span class="muted small">
                    pid {p.pid} · {formatBytes(p.rssBytes)} · running {age(p.startedAt, now())}
                  </span>
                </span>
                <ConfirmButton label="Kill" confirmLabel="Kill process" subject={`process ${p.pid}`} onConfirm={() => kill(p.pid)} />
              </li>
            )}
          </For>
        </ul>
      </Show>
    </>
  );
}
