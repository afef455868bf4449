import { useNavigate } from "@solidjs/router";
import { createEffect, createSignal, For, onMount, Show } from "solid-js";
import { api, json } from "../lib/api.ts";
import { type NewChatDraft, clearNewDraft, loadNewDraft, saveNewDraft } from "../lib/drafts.ts";
import { newUlid } from "../lib/format.ts";
import { createLoad } from "../lib/load.ts";
import { discardPending, sendNewChat } from "../lib/pending-sends.ts";
import { RepoPicker } from "./repo-picker.tsx";
import "./new-chat.css";

type Providers = { providers: Array<{ id: string; name?: string; models: Record<string, { id: string; name?: string }> }>; default: Record<string, string> };
type Branches = { branches: Array<{ name: string }>; defaultBranch: string | null };

const fetchBranches = (repo: string) => {
  const [owner = "", name = ""] = repo.split("/");
  return json<Branches>(api.api.repos[":owner"][":name"].branches.$get({ param: { owner, name } }));
};
const fetchProviders = () => json<Providers>(fetch("/api/box/oc/config/providers"));

/** Repo first, then the prompt with the keyboard up; branch and model are defaults you can change. */
export default function NewChat() {
  const [draft, setDraft] = createSignal<NewChatDraft>(loadNewDraft());
  createEffect(() => saveNewDraft(draft()));
  const patch = (p: Partial<NewChatDraft>) => setDraft((d) => ({ ...d, ...p }));
  return (
    <div class="new-chat">
      <Show when={draft().repo} fallback={<RepoPicker onPick={(repo) => patch({ repo, base: undefined })} />}>
        {(repo) => <Composer repo={repo()} draft={draft()} patch={patch} />}
      </Show>
    </div>
  );
}

function Composer(props: { repo: string; draft: NewChatDraft; patch: (p: Partial<NewChatDraft>) => void }) {
  const navigate = useNavigate();
  const branches = createLoad(() => props.repo, fetchBranches);
  const providers = createLoad(() => true, fetchProviders);
  const [sending, setSending] = createSignal(false);
  const [error, setError] = createSignal<string>();
  let textarea: HTMLTextAreaElement | undefined;
  onMount(() => textarea?.focus());

  const defaultModel = () => {
    const p = providers.data();
    const provider = p?.providers.find((x) => p.default[x.id]);
    const model = provider?.models[p?.default[provider.id] ?? ""];
    return model ? (model.name ?? model.id) : undefined;
  };
  const modelFallback = () => (providers.loading() && !providers.data() ? "loading models…" : "box default");
  const branchNames = () => branches.data()?.branches.map((b) => b.name) ?? [];
  const branch = () => props.draft.base ?? branches.data()?.defaultBranch ?? "";
  const send = async (e: Event) => {
    e.preventDefault();
    const text = props.draft.text.trim();
    if (!text || sending()) return;
    setSending(true);
    setError(undefined);
    const promptId = newUlid();
    try {
      const res = await sendNewChat({ promptId, repo: props.repo, text, base: props.draft.base, model: props.draft.model });
      clearNewDraft();
      navigate("chat" in res ? `/chats/${res.chat.id}` : "/");
    } catch (err) {
      discardPending(promptId);
      setError((err as Error).message);
    } finally {
      setSending(false);
    }
  };
  return (
    <form class="composer-new" onSubmit={(e) => void send(e)}>
      <button type="button" class="line" onClick={() => props.patch({ repo: undefined, base: undefined })} aria-label={`Repository ${props.repo}: change`}>
        <span class="line-label">repo</span>
        <span class="line-value">{props.repo}</span>
        <span class="line-action">change</span>
      </button>
      <label class="visually-hidden" for="prompt">Prompt</label>
      <textarea
        id="prompt"
        ref={textarea}
        placeholder="What should the agent do?"
        value={props.draft.text}
        onInput={(e) => props.patch({ text: e.currentTarget.value })}
        onKeyDown={(e) => e.key === "Enter" && (e.ctrlKey || e.metaKey) && void send(e)}
      />
      <div class="defaults">
        <label class="line">
          <span class="line-label">branch</span>
          <select aria-label="Branch" onChange={(e) => props.patch({ base: e.currentTarget.value || undefined })}>
            <Show when={!branches.data()?.defaultBranch}>
              <option value="">default branch</option>
            </Show>
            <For each={branchNames()}>{(b) => <option value={b} selected={b === branch()}>{b}</option>}</For>
          </select>
        </label>
        <label class="line">
          <span class="line-label">model</span>
          <select aria-label="Model" onChange={(e) => props.patch({ model: e.currentTarget.value || undefined })}>
            <option value="">{defaultModel() ? `default · ${defaultModel()}` : modelFallback()}</option>
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
      <Show when={error()}>
        <p class="notice bad" role="alert">{error()}</p>
      </Show>
      <div class="send-row">
        <span class="muted hint" classList={{ keys: !providers.error() }}>{providers.error() ? "box offline: the prompt will wait for it" : "Ctrl+Enter sends"}</span>
        <button class="primary send" type="submit" disabled={sending() || !props.draft.text.trim()}>
          {sending() ? "Sending…" : "Send"}
        </button>
      </div>
    </form>
  );
}
