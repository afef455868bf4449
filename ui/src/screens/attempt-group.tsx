import { useNavigate, useParams } from "@solidjs/router";
import { createEffect, createSignal, For, onCleanup, Show } from "solid-js";
import { api, json } from "../lib/api.ts";
import { type Chat, refreshChats } from "../lib/chats-store.ts";
import { chipOf } from "../lib/format.ts";
import { createLoad } from "../lib/load.ts";
import { handleUnauthorized } from "../lib/session.ts";
import "./attempt-group.css";

type Stats = { files: number; additions: number; deletions: number };
const POLL_MS = 4_000;
const settled = (c: Chat) => c.status !== "busy" && c.status !== "queued";

const fetchGroup = (group: string) => json<{ chats: Chat[] }>(api.api.chats.$get({ query: { group } }));
async function fetchStats(id: string): Promise<Stats | undefined> {
  const diff = await json<{ files: Array<{ additions: number; deletions: number }> }>(api.api.chats[":id"].diff.$get({ param: { id } })).catch(() => undefined);
  if (!diff) return undefined;
  return { files: diff.files.length, additions: diff.files.reduce((n, f) => n + f.additions, 0), deletions: diff.files.reduce((n, f) => n + f.deletions, 0) };
}

/** /groups/:id — parallel attempts side by side: how each one went, then ship one. */
export default function AttemptGroup() {
  const params = useParams<{ id: string }>();
  return <Show when={params.id} keyed>{(id) => <GroupView groupId={id} />}</Show>;
}

function GroupView(props: { groupId: string }) {
  const navigate = useNavigate();
  const group = createLoad(() => props.groupId, fetchGroup);
  const chats = () => group.data()?.chats ?? [];
  const timer = setInterval(() => document.visibilityState === "visible" && chats().some((c) => !settled(c)) && group.reload(), POLL_MS);
  onCleanup(() => clearInterval(timer));

  // The diff gives the line counts; asked once per settled attempt and activity.
  const [stats, setStats] = createSignal<Record<string, Stats>>({});
  const asked = new Set<string>();
  createEffect(() => {
    for (const c of chats().filter((x) => settled(x) && x.sessionId)) {
      const key = `${c.id}@${c.lastActivityAt}`;
      if (asked.has(key)) continue;
      asked.add(key);
      void fetchStats(c.id).then((s) => s && setStats((all) => ({ ...all, [c.id]: s })));
    }
  });

  // Shipped: the one attempt left in the list once the others were archived.
  const shipped = () => {
    const live = chats().filter((c) => !c.archived);
    return live.length === 1 && chats().length > 1 ? live[0]!.id : undefined;
  };
  const [shipping, setShipping] = createSignal<string>();
  const [error, setError] = createSignal<string>();
  const ship = async (id: string) => {
    setShipping(id);
    setError(undefined);
    try {
      await json(api.api.chats[":id"].pick.$post({ param: { id } }));
      void refreshChats();
      navigate(`/chats/${id}`);
    } catch (err) {
      if (!handleUnauthorized(err)) setError((err as Error).message);
    } finally {
      setShipping(undefined);
    }
  };
  const first = () => chats()[0];
  return (
    <section class="attempt-group" aria-labelledby="group-title">
      <header class="group-head">
        <span class="muted group-repo">{first()?.repo}</span>
        <h2 id="group-title" class="group-title">{first()?.title ?? "Attempts"}</h2>
        <Show when={chats().length > 0}>
          <span class="muted">{chats().length} attempts · {chats().filter(settled).length} finished</span>
        </Show>
      </header>
      <Show when={error() ?? group.error()?.message}>{(message) => <p class="notice bad" role="alert">{message()}</p>}</Show>
      <Show when={group.data() && chats().length === 0}>
        <p class="muted">No attempts here: the group is gone, or it is not yours.</p>
      </Show>
      <Show when={!group.data() && group.loading()}>
        <p class="muted">Loading attempts…</p>
      </Show>
      <ol class="attempts">
        <For each={chats()}>
          {(chat, i) => <AttemptCard chat={chat} index={i()} stats={stats()[chat.id]} shipped={shipped() === chat.id} busy={shipping() !== undefined} onShip={() => void ship(chat.id)} />}
        </For>
      </ol>
    </section>
  );
}

function AttemptCard(props: { chat: Chat; index: number; stats?: Stats; shipped: boolean; busy: boolean; onShip: () => void }) {
  const chip = () => chipOf(props.chat);
  const model = () => props.chat.model?.split("/").slice(1).join("/") || "box default";
  const files = () => props.stats?.files ?? props.chat.filesChanged;
  const additions = () => props.stats?.additions ?? props.chat.additions;
  const deletions = () => props.stats?.deletions ?? props.chat.deletions;
  return (
    <li class="attempt" data-archived={props.chat.archived && !props.shipped ? "" : undefined} data-shipped={props.shipped ? "" : undefined} aria-label={`Attempt ${props.index + 1}`}>
      <div class="attempt-top">
        <span class="attempt-name">Attempt {props.index + 1}</span>
        <span class="chip" data-status={chip().status}>{chip().label}</span>
        <Show when={props.shipped}>
          <span class="chip shipped">shipped</span>
        </Show>
      </div>
      <span class="attempt-model mono" title={props.chat.model ?? "the box's default model"}>{model()}</span>
      <span class="attempt-diff">
        <Show when={files() > 0} fallback={<span class="muted">{settled(props.chat) ? "no files changed" : "no changes yet"}</span>}>
          <span>{files() === 1 ? "1 file" : `${files()} files`}</span>{" "}
          <span class="diffstat"><span class="add">+{additions()}</span> <span class="del">{"\u2212"}{deletions()}</span></span>
        </Show>
      </span>
      <Show when={props.chat.status === "error" && props.chat.error}>
        <span class="attempt-error">{props.chat.error}</span>
      </Show>
      <div class="attempt-actions">
        <a class="button" href={`/chats/${props.chat.id}`} aria-label={`Open attempt ${props.index + 1}`}>Open</a>
        <button type="button" class="primary" disabled={props.busy || props.shipped} onClick={() => props.onShip()}>
          {props.shipped ? "Shipped" : "Ship this one"}
        </button>
      </div>
    </li>
  );
}
