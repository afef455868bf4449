import { useLocation } from "@solidjs/router";
import type { InferResponseType } from "hono/client";
import { createEffect, createMemo, createSignal, For, on, Show } from "solid-js";
import { type UsageTotals, formatCost, formatTokens } from "../chat/usage-badge.tsx";
import { api, json } from "../lib/api.ts";
import { type Chat, chats, loaded } from "../lib/chats-store.ts";
import { chipOf, diffLabel, relativeTime } from "../lib/format.ts";
import { now, wide } from "../lib/media.ts";
import { discardPending, pending, type PendingSend } from "../lib/pending-sends.ts";
import { whenSignedOut } from "../lib/session.ts";
import "./chat-list.css";

type Filter = "needs_you" | "working" | "all";
// Module state: the filters survive going into a chat and back.
const [filter, setFilter] = createSignal<Filter>("all");
const [repoFilter, setRepoFilter] = createSignal("");

type UsageBody = InferResponseType<typeof api.api.usage.$get, 200>;
const [today, setToday] = createSignal<UsageBody["today"]>();
whenSignedOut(() => setToday(undefined));
let todayLoad: "idle" | "loading" | "again" = "idle";

/** Today's total (UTC day) from the worker; never awaited by the list, so it cannot delay a paint. */
function loadToday() {
  if (todayLoad !== "idle") return void (todayLoad = "again");
  todayLoad = "loading";
  json<UsageBody>(api.api.usage.$get({ query: { days: "1" } }))
    .then((body) => setToday(body.today), () => undefined)
    .finally(() => {
      const again = todayLoad === "again";
      todayLoad = "idle";
      if (again) loadToday();
    });
}

const costOf = (c: UsageTotals) => c.costUsd ?? 0;

const matches = (c: Chat, f: Filter) => (f === "needs_you" ? c.needsYou : f === "working" ? c.status === "busy" || c.status === "queued" : true);

/** The chats, newest activity first (the worker's order), with filters and the New button. */
export function ChatListView() {
  const location = useLocation();
  const repos = createMemo(() => [...new Set(chats().map((c) => c.repo))].sort());
  const shown = createMemo(() => chats().filter((c) => !c.archived && matches(c, filter()) && (!repoFilter() || c.repo === repoFilter())));
  const count = (f: Filter) => chats().filter((c) => !c.archived && matches(c, f)).length;
  // A chat's cost moved (or the list first painted): today's total has moved too.
  createEffect(on(() => chats().reduce((n, c) => n + costOf(c), 0), loadToday));
  const FilterButton = (props: { value: Filter; label: string }) => (
    <button type="button" aria-pressed={filter() === props.value} onClick={() => setFilter(props.value)}>
      {props.label}
      <Show when={props.value !== "all" && count(props.value) > 0}>
        <span class="count" data-loud={props.value === "needs_you" ? "" : undefined}>{count(props.value)}</span>
      </Show>
    </button>
  );
  return (
    <section class="chat-list" aria-label="Chats">
      <div class="filters">
        <div class="segmented" role="group" aria-label="Show">
          <FilterButton value="needs_you" label="Needs you" />
          <FilterButton value="working" label="Working" />
          <FilterButton value="all" label="All" />
        </div>
        <Show when={repos().length > 1 || repoFilter()}>
          <select aria-label="Repository" value={repoFilter()} onChange={(e) => setRepoFilter(e.currentTarget.value)}>
            <option value="">All repos</option>
            <For each={repos()}>{(r) => <option value={r}>{r}</option>}</For>
          </select>
        </Show>
        <Show when={today() && today()!.tokensIn + today()!.tokensOut > 0}>
          <p class="today-usage" title="Cost and tokens of all your chats since midnight UTC">
            Today <strong>{formatCost(today()!.costUsd)}</strong> · {formatTokens(today()!.tokensIn + today()!.tokensOut)} tokens
          </p>
        </Show>
      </div>
      <div class="rows">
        <ul class="chat-rows">
          <For each={pending()}>{(p) => <PendingRow send={p} />}</For>
          <For each={shown()}>{(c) => <ChatRow chat={c} active={location.pathname === `/chats/${c.id}`} />}</For>
        </ul>
        <Show when={!loaded()}>
          <p class="list-empty muted">Loading your chats…</p>
        </Show>
        <Show when={loaded() && shown().length === 0 && pending().length === 0}>
          <div class="list-empty">
            <Show when={chats().length === 0} fallback={<p class="muted">Nothing here with these filters.</p>}>
              <p class="empty-title">No chats yet</p>
              <p class="muted">Tap New, pick a repo and say what to do. You can lock your phone while it works.</p>
            </Show>
          </div>
        </Show>
      </div>
      <a class="button primary fab" href="/new" aria-label="New chat">
        <span aria-hidden="true">+</span> New
      </a>
    </section>
  );
}

function ChatRow(props: { chat: Chat; active: boolean }) {
  const chip = () => chipOf(props.chat);
  return (
    <li>
      <a class="row" href={`/chats/${props.chat.id}`} aria-current={props.active ? "page" : undefined} data-loud={props.chat.needsYou ? "" : undefined}>
        <span class="row-top">
          <span class="repo">{props.chat.repo}</span>
          <time datetime={props.chat.lastActivityAt}>{relativeTime(props.chat.lastActivityAt, now())}</time>
        </span>
        <span class="row-title">{props.chat.title ?? "Untitled chat"}</span>
        <span class="row-meta">
          <span class="chip" data-status={chip().status}>{chip().label}</span>
          <Show when={diffLabel(props.chat)}>
            <Show when={props.chat.additions + props.chat.deletions > 0} fallback={<span class="diffstat muted">{diffLabel(props.chat)}</span>}>
              <span class="diffstat">
                <span class="add">+{props.chat.additions}</span> <span class="del">{"\u2212"}{props.chat.deletions}</span>
              </span>
            </Show>
          </Show>
          <Show when={props.chat.status === "error" && props.chat.error}>
            <span class="row-error">{props.chat.error}</span>
          </Show>
          <Show when={costOf(props.chat) > 0}>
            <span class="row-cost" title="Cost of this chat so far">{formatCost(costOf(props.chat))}</span>
          </Show>
        </span>
      </a>
    </li>
  );
}

function PendingRow(props: { send: PendingSend }) {
  return (
    <li class="row pending">
      <span class="row-top">
        <span class="repo">{props.send.repo}</span>
        <time datetime={props.send.createdAt}>{relativeTime(props.send.createdAt, now())}</time>
      </span>
      <span class="row-title">{props.send.text.trim().split("\n")[0]}</span>
      <span class="row-meta">
        <span class="chip" data-status="queued">queued</span>
        <span class="row-error" classList={{ muted: !props.send.error }}>{props.send.error ?? "not sent yet — it goes out when you're back online"}</span>
        <Show when={props.send.error}>
          <button type="button" class="danger small" onClick={() => discardPending(props.send.promptId)}>
            Discard
          </button>
        </Show>
      </span>
    </li>
  );
}

/** Home: on a phone the list; on a laptop the list is the left pane already, so the page invites a pick. */
export default function ChatListRoute() {
  return (
    <Show when={!wide()} fallback={<WideHome />}>
      <ChatListView />
    </Show>
  );
}

function WideHome() {
  return (
    <div class="wide-home">
      <p class="empty-title">Pick a chat, or start a new one</p>
      <a class="button primary" href="/new">New chat</a>
    </div>
  );
}
