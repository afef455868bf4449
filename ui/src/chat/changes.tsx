import { useNavigate } from "@solidjs/router";
import { createResource, createSignal, For, Show } from "solid-js";
import { api, json } from "../lib/api.ts";
import { load, save } from "../lib/storage.ts";
import { relativeTime } from "../lib/format.ts";
import { now } from "../lib/media.ts";
import { DiffView, splitPatch } from "./diff-view.tsx";
import { type Checkpoint, fetchCheckpoints, forkAt } from "./fork.ts";

type DiffFile = { path: string; status: string; additions: number; deletions: number };
type Diff = { base: string; files: DiffFile[]; patch: string };
type Pr = { number: number; url: string };

const STATUS_MARK: Record<string, string> = { added: "A", modified: "M", deleted: "D", renamed: "R" };

/** The Changes tab: files with +/−, each file's diff on tap, checkpoints, and Create PR. */
export function Changes(props: { chatId: string; title: string; onBox: boolean; version: number; onFiles: (n: number) => void }) {
  const [diff, { refetch }] = createResource(() => (props.onBox ? props.version + 1 : false), async () => {
    const d = await json<Diff>(api.api.chats[":id"].diff.$get({ param: { id: props.chatId } }));
    props.onFiles(d.files.length);
    return d;
  });
  const [checkpoints] = createResource(() => (props.onBox ? props.version + 1 : false), () => fetchCheckpoints(props.chatId));
  const [open, setOpen] = createSignal<Set<string>>(new Set());
  const patches = () => splitPatch(diff()?.patch ?? "");
  const toggle = (path: string) => setOpen((s) => {
    const next = new Set(s);
    if (!next.delete(path)) next.add(path);
    return next;
  });
  const totals = () => (diff()?.files ?? []).reduce((t, f) => ({ a: t.a + f.additions, d: t.d + f.deletions }), { a: 0, d: 0 });

  return (
    <div class="changes">
      <Show when={props.onBox} fallback={<p class="muted pad">The chat is not on the box yet.</p>}>
        <section aria-label="Files changed">
          <div class="section-head">
            <h2>Files changed</h2>
            <Show when={diff()}>
              <span class="stat"><span class="plus">+{totals().a}</span> <span class="minus">−{totals().d}</span></span>
            </Show>
            <button type="button" class="ghost" onClick={() => refetch()} aria-label="Refresh changes">↻</button>
          </div>
          <Show when={diff.error}><p class="error-text" role="alert">{(diff.error as Error).message}</p></Show>
          <Show when={diff()?.files.length === 0}><p class="muted pad">No changes yet.</p></Show>
          <Show when={diff.loading && !diff()}><p class="muted pad">Loading…</p></Show>
          <ul class="files">
            <For each={diff()?.files ?? []}>
              {(f) => (
                <li class="file">
                  <button type="button" class="file-row" aria-expanded={open().has(f.path)} onClick={() => toggle(f.path)}>
                    <span class="file-mark" data-status={f.status} aria-label={f.status}>{STATUS_MARK[f.status] ?? "M"}</span>
                    <span class="file-path">{f.path}</span>
                    <span class="stat"><span class="plus">+{f.additions}</span> <span class="minus">−{f.deletions}</span></span>
                  </button>
                  <Show when={open().has(f.path)}>
                    <DiffView lines={patches().get(f.path) ?? []} />
                  </Show>
                </li>
              )}
            </For>
          </ul>
        </section>
        <CreatePr chatId={props.chatId} title={props.title} files={diff()?.files ?? []} />
        <section aria-label="Checkpoints">
          <div class="section-head"><h2>Checkpoints</h2></div>
          <Show when={checkpoints()?.length === 0}><p class="muted pad">None yet: one is made when a run ends.</p></Show>
          <ol class="timeline">
            <For each={checkpoints() ?? []}>{(cp) => <CheckpointItem chatId={props.chatId} cp={cp} />}</For>
          </ol>
        </section>
      </Show>
    </div>
  );
}

/** One checkpoint: its message and files on tap, and a new chat forked from it. */
function CheckpointItem(props: { chatId: string; cp: Checkpoint }) {
  const navigate = useNavigate();
  const [open, setOpen] = createSignal(false);
  const [forking, setForking] = createSignal(false);
  const [error, setError] = createSignal<string>();
  const fork = async () => {
    setForking(true);
    setError(undefined);
    try {
      navigate(`/chats/${await forkAt(props.chatId, props.cp.sha)}`);
    } catch (err) {
      setError((err as Error).message);
      setForking(false);
    }
  };
  const n = () => props.cp.files.length;
  return (
    <li class="checkpoint">
      <button type="button" class="cp-row" aria-expanded={open()} onClick={() => setOpen(!open())}>
        <div class="cp-message">{props.cp.message || "Checkpoint"}</div>
        <div class="muted small">
          <code>{props.cp.sha.slice(0, 7)}</code> · {n()} file{n() === 1 ? "" : "s"} · {relativeTime(props.cp.createdAt, now())}{props.cp.pushed ? " · pushed" : ""}
        </div>
      </button>
      <Show when={open()}>
        <ul class="cp-files"><For each={props.cp.files}>{(f) => <li><code>{f}</code></li>}</For></ul>
        <button type="button" class="fork" disabled={forking()} onClick={fork}>{forking() ? "Forking…" : "Fork a new chat from here"}</button>
        <Show when={error()}>{(e) => <p class="error-text" role="alert">{e()}</p>}</Show>
      </Show>
    </li>
  );
}

function CreatePr(props: { chatId: string; title: string; files: DiffFile[] }) {
  const key = `chat.${props.chatId}.pr`;
  const [pr, setPr] = createSignal<Pr | undefined>(load<Pr>(key));
  const [title, setTitle] = createSignal<string>();
  const [body, setBody] = createSignal<string>();
  const [draft, setDraft] = createSignal(true);
  const [sending, setSending] = createSignal(false);
  const [error, setError] = createSignal<string>();
  const defaultBody = () => ["Opened from ocweb.", "", ...props.files.map((f) => `- \`${f.path}\` (+${f.additions} −${f.deletions})`)].join("\n");

  const submit = async (e: Event) => {
    e.preventDefault();
    setSending(true);
    setError(undefined);
    try {
      const res = await json<{ pr: Pr }>(api.api.chats[":id"].pr.$post({ param: { id: props.chatId }, json: { title: title()?.trim() || props.title, body: body() ?? defaultBody(), draft: draft() } }));
      save(key, res.pr);
      setPr(res.pr);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setSending(false);
    }
  };

  return (
    <section class="pr" aria-label="Pull request">
      <div class="section-head"><h2>Pull request</h2></div>
      <Show when={!pr()} fallback={<p class="pad"><a class="button primary" href={pr()!.url} target="_blank" rel="noopener">Open PR #{pr()!.number}</a></p>}>
        <form class="pr-form" onSubmit={submit}>
          <label>Title<input value={title() ?? props.title} onInput={(e) => setTitle(e.currentTarget.value)} maxLength={250} /></label>
          <label>Description<textarea rows={4} value={body() ?? defaultBody()} onInput={(e) => setBody(e.currentTarget.value)} /></label>
          <label class="check"><input type="checkbox" checked={draft()} onChange={(e) => setDraft(e.currentTarget.checked)} /> Draft</label>
          <Show when={error()}>{(e) => <p class="error-text" role="alert">{e()}</p>}</Show>
          <button type="submit" class="primary" disabled={sending()}>{sending() ? "Creating…" : draft() ? "Create draft PR" : "Create PR"}</button>
        </form>
      </Show>
    </section>
  );
}
