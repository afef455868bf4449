import { useNavigate, useSearchParams } from "@solidjs/router";
import type { InferRequestType, InferResponseType } from "hono/client";
import { createEffect, createSignal, onMount, Show } from "solid-js";
import { api, json } from "../lib/api.ts";
import { addChat } from "../lib/chats-store.ts";
import { type NewChatDraft, clearNewDraft, loadNewDraft, saveNewDraft } from "../lib/drafts.ts";
import { newUlid } from "../lib/format.ts";
import { createLoad } from "../lib/load.ts";
import { isNetworkError } from "../lib/media.ts";
import { discardPending, sendNewChat } from "../lib/pending-sends.ts";
import { handleUnauthorized } from "../lib/session.ts";
import { IssuePicker, issuePrompt, type Issue } from "./issue-picker.tsx";
import { AttemptModels, AttemptsStepper, boxOnScreen, type Boxes, BoxSelect, defaultModelName, liveBoxesOf, type Providers } from "./new-chat-options.tsx";
import { BranchSelect } from "./branch-select.tsx";
import { RepoPicker } from "./repo-picker.tsx";
import { AttachButton, AttachmentStrip } from "../chat/attach-button.tsx";
import { DictateButton, insertAtCursor } from "../chat/dictate-button.tsx";
import { createAttachments } from "../lib/attachments.ts";
import "./new-chat.css";

type CreateBody = InferRequestType<typeof api.api.chats.$post>["json"];
type Created = InferResponseType<typeof api.api.chats.$post, 201>;
/** The draft also keeps the attempts, their models (attempt 1's is `model`) and the issue it starts from. */
type Draft = NewChatDraft & { boxId?: string; attempts?: number; attemptModels?: Array<string | undefined>; issue?: { number: number; url: string; title: string; prompt: string } };
type Patch = (p: Partial<Draft>) => void;
const REPO = /^[A-Za-z0-9_.-]{1,100}\/[A-Za-z0-9_.-]{1,100}$/;

/** The models of the box the chat will run on ("": the default box). */
const fetchProviders = (box: string) => json<Providers>(fetch(`/api/box/oc/config/providers${box ? `?box=${box}` : ""}`));

/** Repo first, then the prompt with the keyboard up; branch, attempts and models are defaults you can change. */
export default function NewChat() {
  const [draft, setDraft] = createSignal<Draft>(loadNewDraft());
  const patch: Patch = (p) => setDraft((d) => ({ ...d, ...p }));
  // /new?repo=owner/name&text=… (the share target): taken into the draft once, then dropped from the URL.
  const [search, setSearch] = useSearchParams<{ repo?: string; text?: string }>();
  const shared = { repo: REPO.test(search.repo ?? "") ? search.repo : undefined, text: search.text?.trim() };
  if (shared.repo && shared.repo !== draft().repo) patch({ repo: shared.repo, base: undefined, issue: undefined });
  if (shared.text && !draft().text.includes(shared.text)) patch({ text: [draft().text.trimEnd(), shared.text].filter(Boolean).join("\n\n") });
  onMount(() => (search.repo !== undefined || search.text !== undefined) && setSearch({ repo: undefined, text: undefined }, { replace: true }));
  createEffect(() => saveNewDraft(draft()));
  return (
    <div class="new-chat">
      <Show when={draft().repo} fallback={<RepoPicker onPick={(repo) => patch({ repo, base: undefined, issue: undefined })} />}>
        {(repo) => <Composer repo={repo()} draft={draft()} patch={patch} />}
      </Show>
    </div>
  );
}

function Composer(props: { repo: string; draft: Draft; patch: Patch }) {
  const navigate = useNavigate();
  const boxes = createLoad(() => true, () => json<Boxes>(api.api.boxes.$get()));
  const liveBoxes = () => liveBoxesOf(boxes.data());
  const shownBox = () => boxOnScreen(boxes.data(), props.draft.boxId);
  // The box on screen is sent, unless it is the env box (then the offline-safe outbox can take it).
  const pickedBox = () => (shownBox() === "env" ? undefined : shownBox());
  const providers = createLoad(() => shownBox() ?? "", fetchProviders);
  const [sending, setSending] = createSignal(false);
  const [error, setError] = createSignal<string>();
  const [picking, setPicking] = createSignal(false);
  let textarea: HTMLTextAreaElement | undefined;
  onMount(() => textarea?.focus());
  const attachments = createAttachments();
  const files = () => attachments.items();

  const attempts = () => props.draft.attempts ?? 1;
  const modelOf = (i: number) => (i === 0 ? props.draft.model : props.draft.attemptModels?.[i - 1]);
  const setModel = (i: number, model?: string) => {
    if (i === 0) return props.patch({ model });
    const rest = Array.from({ length: attempts() - 1 }, (_, j) => props.draft.attemptModels?.[j]);
    rest[i - 1] = model;
    props.patch({ attemptModels: rest });
  };
  const defaultText = () => {
    const name = defaultModelName(providers.data());
    return name ? `default · ${name}` : providers.loading() && !providers.data() ? "loading models…" : "box default";
  };
  const pickIssue = (issue: Issue) => {
    const prompt = issuePrompt(issue);
    const typed = props.draft.issue ? props.draft.text.replace(props.draft.issue.prompt, "").trim() : props.draft.text.trim();
    props.patch({ issue: { number: issue.number, url: issue.url, title: issue.title, prompt }, text: [typed, prompt].filter(Boolean).join("\n\n") });
    setPicking(false);
  };

  // The same send, retried after a failure, keeps its promptId: the worker then answers what it made.
  let lastTry: { key: string; promptId: string } | undefined;
  const promptIdFor = (body: unknown) => {
    const key = JSON.stringify(body);
    if (lastTry?.key !== key) lastTry = { key, promptId: newUlid() };
    return lastTry.promptId;
  };
  const sendDirect = async (text: string) => {
    const n = attempts();
    const issue = props.draft.issue;
    const fields = {
      repo: props.repo, ...(props.draft.base ? { base: props.draft.base } : {}), ...(n === 1 && props.draft.model ? { model: props.draft.model } : {}),
      ...(n > 1 ? { attempts: n, models: Array.from({ length: n }, (_, i) => modelOf(i) ?? null) } : {}),
      ...(issue ? { issue: { number: issue.number, url: issue.url } } : {}),
      ...(pickedBox() ? { boxId: pickedBox() } : {}),
    };
    const body: CreateBody = { ...fields, prompt: { promptId: promptIdFor({ fields, text }), text, ...(files().length ? { files: files() } : {}) } };
    const res = await json<Created>(api.api.chats.$post({ json: body }));
    const group = res.group;
    for (const chat of [...(group?.chats ?? [res.chat])].reverse()) addChat(chat);
    return group ? `/groups/${group.id}` : `/chats/${res.chat.id}`;
  };
  const send = async (e: Event) => {
    e.preventDefault();
    const text = props.draft.text.trim();
    if (!text || sending() || attachments.busy()) return;
    setSending(true);
    setError(undefined);
    const promptId = newUlid();
    try {
      // One chat from a typed prompt goes through the offline-safe outbox; attempts, issues and another box go straight to the worker.
      if (attempts() > 1 || props.draft.issue || pickedBox()) {
        const to = await sendDirect(text);
        clearNewDraft();
        attachments.clear();
        return navigate(to);
      }
      const res = await sendNewChat({ promptId, repo: props.repo, text, base: props.draft.base, model: props.draft.model, ...(files().length ? { files: files() } : {}) });
      clearNewDraft();
      attachments.clear();
      navigate("chat" in res ? `/chats/${res.chat.id}` : "/");
    } catch (err) {
      discardPending(promptId);
      if (handleUnauthorized(err)) return;
      setError(isNetworkError(err) ? "could not reach ocweb: your draft is kept, send again when you are online" : (err as Error).message);
    } finally {
      setSending(false);
    }
  };
  return (
    <Show when={!picking()} fallback={<IssuePicker repo={props.repo} onPick={pickIssue} onClose={() => setPicking(false)} />}>
      <form class="composer-new" onSubmit={(e) => void send(e)}>
        <button type="button" class="line" onClick={() => props.patch({ repo: undefined, base: undefined, issue: undefined })} aria-label={`Repository ${props.repo}: change`}>
          <span class="line-label">repo</span>
          <span class="line-value">{props.repo}</span>
          <span class="line-action">change</span>
        </button>
        <Show
          when={props.draft.issue}
          fallback={
            <button type="button" class="line" onClick={() => setPicking(true)}>
              <span class="line-label">issue</span>
              <span class="line-value muted">none</span>
              <span class="line-action">from an issue</span>
            </button>
          }
        >
          {(issue) => (
            <div class="line">
              <span class="line-label">issue</span>
              <a class="line-value" href={issue().url} target="_blank" rel="noopener">#{issue().number} {issue().title}</a>
              <button type="button" class="line-action unlink" aria-label={`Unlink issue #${issue().number}`} onClick={() => props.patch({ issue: undefined })}>
                unlink
              </button>
            </div>
          )}
        </Show>
        <label class="visually-hidden" for="prompt">Prompt</label>
        <textarea
          id="prompt"
          ref={textarea}
          placeholder="What should the agent do?"
          value={props.draft.text}
          onInput={(e) => props.patch({ text: e.currentTarget.value })}
          onPaste={(e) => attachments.paste(e)}
          onKeyDown={(e) => e.key === "Enter" && (e.ctrlKey || e.metaKey) && void send(e)}
        />
        <Show when={attachments.error()}>{(e) => <p class="notice bad" role="alert">{e()}</p>}</Show>
        <AttachmentStrip attachments={attachments} />
        <div class="defaults">
          <BranchSelect repo={props.repo} value={props.draft.base} onChange={(base) => props.patch({ base })} />
          <AttemptsStepper value={attempts()} onChange={(n) => props.patch({ attempts: n })} />
          <Show when={liveBoxes().length > 1}>
            <BoxSelect boxes={liveBoxes()} value={shownBox()} onChange={(boxId) => props.patch({ boxId })} />
          </Show>
        </div>
        <AttemptModels count={attempts()} modelOf={modelOf} onChange={setModel} providers={providers.data()} defaultText={defaultText()} />
        <Show when={error()}>
          <p class="notice bad" role="alert">{error()}</p>
        </Show>
        <div class="send-row">
          <AttachButton onFiles={attachments.add} />
          <DictateButton onText={(t) => textarea && insertAtCursor(textarea, t)} />
          <span class="muted hint" classList={{ keys: !providers.error() }}>{providers.error() ? "box offline: the prompt will wait for it" : "Ctrl+Enter sends"}</span>
          <button class="primary send" type="submit" disabled={sending() || attachments.busy() || !props.draft.text.trim()}>
            {sending() ? "Sending…" : attempts() > 1 ? `Send ${attempts()} attempts` : "Send"}
          </button>
        </div>
      </form>
    </Show>
  );
}
