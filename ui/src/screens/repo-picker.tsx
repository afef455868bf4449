import type { InferResponseType } from "hono/client";
import { createSignal, For, onCleanup, Show } from "solid-js";
import { api, json } from "../lib/api.ts";
import { chats } from "../lib/chats-store.ts";
import { createLoad } from "../lib/load.ts";

type ReposBody = InferResponseType<typeof api.api.repos.$get, 200>;
const REPO = /^[A-Za-z0-9_.-]{1,100}\/[A-Za-z0-9_.-]{1,100}$/;
const DEBOUNCE_MS = 250;

const fetchRepos = (q: string) => json<ReposBody>(api.api.repos.$get({ query: q ? { q } : {} }));

/** Recent repos first (the worker orders them), then everything; the search goes to the worker. */
export function RepoPicker(props: { onPick: (repo: string) => void }) {
  const [text, setText] = createSignal("");
  const [query, setQuery] = createSignal("");
  let timer: ReturnType<typeof setTimeout> | undefined;
  onCleanup(() => clearTimeout(timer));
  const onInput = (value: string) => {
    setText(value);
    clearTimeout(timer);
    timer = setTimeout(() => setQuery(value.trim()), DEBOUNCE_MS);
  };
  const repos = createLoad(query, fetchRepos);
  const list = () => repos.data()?.repos ?? [];
  const typedRepo = () => {
    const t = text().trim();
    const listed = list().some((r) => r.fullName.toLowerCase() === t.toLowerCase());
    return REPO.test(t) && !listed ? t : undefined;
  };
  const recent = () => new Set(chats().map((c) => c.repo.toLowerCase()));
  return (
    <section class="picker" aria-labelledby="picker-title">
      <h2 id="picker-title" class="picker-title">Pick a repository</h2>
      <label class="visually-hidden" for="repo-search">Search repositories</label>
      <input id="repo-search" type="search" placeholder="Search repositories" autocomplete="off" autocapitalize="off" spellcheck={false} value={text()} onInput={(e) => onInput(e.currentTarget.value)} />
      <Show when={repos.error()}>
        <p class="notice bad" role="alert">{repos.error()?.message}</p>
      </Show>
      <ul class="repo-list" aria-busy={repos.loading()}>
        <Show when={typedRepo()}>
          {(name) => (
            <li>
              <button type="button" class="repo-option" onClick={() => props.onPick(name())}>
                <span>Use <strong>{name()}</strong></span>
              </button>
            </li>
          )}
        </Show>
        <For each={list()}>
          {(r) => (
            <li>
              <button type="button" class="repo-option" onClick={() => props.onPick(r.fullName)}>
                <span class="repo-name">{r.fullName}</span>
                <span class="repo-tags">
                  <Show when={recent().has(r.fullName.toLowerCase())}>
                    <span class="chip">recent</span>
                  </Show>
                  <Show when={r.private}>
                    <span class="chip">private</span>
                  </Show>
                </span>
              </button>
            </li>
          )}
        </For>
      </ul>
      <Show when={repos.data() && !repos.loading() && list().length === 0 && !typedRepo()}>
        <p class="muted picker-empty">No repositories match “{query()}”.</p>
      </Show>
      <Show when={repos.loading() && !repos.data()}>
        <p class="muted picker-empty">Loading repositories…</p>
      </Show>
    </section>
  );
}
