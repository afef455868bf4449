import type { InferResponseType } from "hono/client";
import { createSignal, For, onCleanup, Show } from "solid-js";
import { api, json } from "../lib/api.ts";
import { relativeTime } from "../lib/format.ts";
import { createLoad } from "../lib/load.ts";
import { now } from "../lib/media.ts";

const issuesRoute = api.api.repos[":owner"][":name"].issues;
type IssuesBody = InferResponseType<typeof issuesRoute.$get, 200>;
export type Issue = IssuesBody["issues"][number];
const DEBOUNCE_MS = 250;

const fetchIssues = (s: { repo: string; q: string; page: number }) => {
  const [owner = "", name = ""] = s.repo.split("/");
  return json<IssuesBody>(issuesRoute.$get({ param: { owner, name }, query: { ...(s.q ? { q: s.q } : {}), page: String(s.page) } }));
};

/** What picking an issue puts in the prompt: its title, its body and its URL. */
export const issuePrompt = (issue: Issue) => [issue.title, issue.body.trim(), issue.url].filter(Boolean).join("\n\n");

/** The repo's open issues, newest update first; search by words of the title or by #number. */
export function IssuePicker(props: { repo: string; onPick: (issue: Issue) => void; onClose: () => void }) {
  const [text, setText] = createSignal("");
  const [query, setQuery] = createSignal("");
  const [page, setPage] = createSignal(1);
  const [earlier, setEarlier] = createSignal<Issue[]>([]);
  let timer: ReturnType<typeof setTimeout> | undefined;
  onCleanup(() => clearTimeout(timer));
  const onInput = (value: string) => {
    setText(value);
    clearTimeout(timer);
    timer = setTimeout(() => {
      setEarlier([]);
      setPage(1);
      setQuery(value.trim());
    }, DEBOUNCE_MS);
  };
  const issues = createLoad(() => ({ repo: props.repo, q: query(), page: page() }), fetchIssues);
  // While the next page loads, the last answer is still the page before it: shown once.
  const list = () => {
    const seen = new Set<number>();
    return [...earlier(), ...(issues.data()?.issues ?? [])].filter((i) => !seen.has(i.number) && Boolean(seen.add(i.number)));
  };
  const more = () => {
    const next = issues.data()?.nextPage;
    if (!next) return;
    setEarlier(list());
    setPage(next);
  };
  return (
    <section class="picker issue-picker" aria-labelledby="issue-picker-title">
      <div class="picker-head">
        <h2 id="issue-picker-title" class="picker-title">Start from an issue of {props.repo}</h2>
        <button type="button" onClick={() => props.onClose()}>Back</button>
      </div>
      <label class="visually-hidden" for="issue-search">Search issues</label>
      <input id="issue-search" type="search" placeholder="Search issues (words or #number)" autocomplete="off" value={text()} onInput={(e) => onInput(e.currentTarget.value)} />
      <Show when={issues.error()}>
        <p class="notice bad" role="alert">{issues.error()?.message}</p>
      </Show>
      <Show when={issues.data()?.note}>{(note) => <p class="notice">{note()}</p>}</Show>
      <ul class="repo-list" aria-busy={issues.loading()}>
        <For each={list()}>
          {(issue) => (
            <li>
              <button type="button" class="repo-option issue-option" onClick={() => props.onPick(issue)}>
                <span class="issue-main">
                  <span class="issue-number muted">#{issue.number}</span> <span class="issue-title">{issue.title}</span>
                </span>
                <span class="repo-tags">
                  <For each={issue.labels.slice(0, 2)}>{(l) => <span class="chip">{l}</span>}</For>
                  <time class="muted" datetime={issue.updatedAt}>{relativeTime(issue.updatedAt, now())}</time>
                </span>
              </button>
            </li>
          )}
        </For>
      </ul>
      <Show when={issues.data()?.nextPage}>
        <button type="button" disabled={issues.loading()} onClick={more}>More issues</button>
      </Show>
      <Show when={issues.data() && !issues.loading() && list().length === 0 && !issues.data()?.note}>
        <p class="muted picker-empty">{query() ? `No open issues match “${query()}”.` : "No open issues."}</p>
      </Show>
      <Show when={issues.loading() && list().length === 0}>
        <p class="muted picker-empty">Loading issues…</p>
      </Show>
    </section>
  );
}
