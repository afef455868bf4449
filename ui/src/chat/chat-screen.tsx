import { useNavigate, useParams, useSearchParams } from "@solidjs/router";
import { createEffect, createMemo, createSignal, on, onCleanup, onMount, Show } from "solid-js";
import { api, json } from "../lib/api.ts";
import { chipOf } from "../lib/format.ts";
import { online } from "../lib/media.ts";
import { Changes } from "./changes.tsx";
import { createChatSession } from "./chat-session.ts";
import { Composer } from "./composer.tsx";
import { checkpointAfter, fetchCheckpoints, forkAt } from "./fork.ts";
import { NeedsYou } from "./needs-you.tsx";
import { Todos } from "./todos.tsx";
import { TranscriptView } from "./transcript-view.tsx";
import { UsageBadge } from "./usage-badge.tsx";
import { MuteToggle } from "./mute-toggle.tsx";
import "./chat.css";

/** /chats/:id — one chat, remounted per id so each gets its own event stream. */
export default function ChatScreen() {
  const params = useParams<{ id: string }>();
  return <Show when={params.id} keyed>{(id) => <ChatView chatId={id} />}</Show>;
}

/**
 * Keeps the composer above the on-screen keyboard where the layout viewport does not shrink for it
 * (iOS Safari): the screen may reach no lower than the bottom of the visual viewport.
 */
function fitVisualViewport(node: HTMLElement) {
  const vv = window.visualViewport;
  const update = () => {
    const bottom = vv ? vv.offsetTop + vv.height : window.innerHeight;
    node.style.maxHeight = `${Math.max(240, Math.floor(bottom - node.getBoundingClientRect().top))}px`;
  };
  update();
  vv?.addEventListener("resize", update);
  vv?.addEventListener("scroll", update);
  window.addEventListener("resize", update);
  onCleanup(() => {
    vv?.removeEventListener("resize", update);
    vv?.removeEventListener("scroll", update);
    window.removeEventListener("resize", update);
  });
}

function ChatView(props: { chatId: string }) {
  const session = createChatSession(props.chatId);
  const [search, setSearch] = useSearchParams<{ tab?: string }>();
  const [changesVersion, setChangesVersion] = createSignal(0);
  const [filesSeen, setFilesSeen] = createSignal<number>();
  const filesChanged = () => filesSeen() ?? session.chat()?.filesChanged ?? 0;
  const t = () => session.transcript;
  const tab = () => (search.tab === "changes" ? "changes" : "chat");
  const busy = () => (t().loaded ? t().status.type !== "idle" : session.chat()?.status === "busy");
  const interrupted = () => {
    const last = t().messages.at(-1)?.info;
    return !busy() && last?.role === "assistant" && !last.time.completed && !last.error;
  };
  const chip = createMemo(() => {
    const c = session.chat();
    if (!c) return undefined;
    const needsYou = t().permissions.length + t().questions.length > 0;
    if (!t().loaded) return chipOf({ status: c.status, needsYou: c.needsYou || needsYou });
    const status = busy() ? "busy" : t().error ? "error" : interrupted() ? "interrupted" : "idle";
    return chipOf({ status, needsYou });
  });
  // The box names sessions "owner/name · branch" and opencode "New session …": neither says what the chat is about.
  const title = () => {
    const c = session.chat();
    const named = t().title && !/^New session/i.test(t().title!) && !(c && t().title!.startsWith(`${c.repo} · `)) ? t().title : undefined;
    const first = t().messages.find((m) => m.info.role === "user")?.parts.find((p) => p.type === "text");
    const firstLine = first?.type === "text" ? first.text.trim().split("\n")[0] : undefined;
    return c?.title ?? named ?? firstLine ?? "New chat";
  };
  // The worker's count lags (checkpoints only); the diff is the truth, and asking for it updates the worker too.
  const countChanges = () =>
    json<{ files: unknown[] }>(api.api.chats[":id"].diff.$get({ param: { id: props.chatId } })).then((d) => setFilesSeen(d.files.length), () => undefined);
  const reconnecting = () => !online() || session.streamState() === "down";
  const navigate = useNavigate();
  // The files as that message's run left them, in a chat of their own.
  const forkFromMessage = async (messageId: string) => {
    const turns = t().messages.filter((m) => m.info.role === "user").map((m) => ({ id: m.id, created: m.info.time.created }));
    const cp = checkpointAfter(turns, messageId, await fetchCheckpoints(props.chatId));
    if (!cp) throw new Error("Nothing to fork yet: no files had changed by then.");
    navigate(`/chats/${await forkAt(props.chatId, cp.sha)}`);
  };
  let root: HTMLDivElement | undefined;

  onMount(() => root && fitVisualViewport(root));
  // A run just ended: the diff, the checkpoints and the worker's row have moved.
  createEffect(on(busy, (now, before) => {
    if (before && !now) {
      setChangesVersion((v) => v + 1);
      void session.refreshPrompts();
      void session.refreshChat();
      void countChanges();
    }
  }));

  return (
    <div class="chat-screen" ref={root}>
      <header class="chat-head">
        <div class="chat-titles">
          <div class="chat-repo">
            {session.chat()?.repo ?? ""}
            <Show when={session.chat()?.groupId}>{(g) => <> · <a href={`/groups/${g()}`}>all attempts</a></>}</Show>
          </div>
          <h1 class="chat-title">{title()}</h1>
        </div>
        <UsageBadge chat={session.chat()} messages={t().messages} />
        <Show when={chip()}>{(c) => <span class="chip" data-status={c().status}>{c().label}</span>}</Show>
        <Show when={session.chat()}>{(c) => <MuteToggle chatId={props.chatId} muted={c().muted} />}</Show>
      </header>
      <nav class="tabs" role="tablist" aria-label="Chat views">
        <button type="button" role="tab" aria-selected={tab() === "chat"} onClick={() => setSearch({ tab: undefined }, { replace: true })}>Chat</button>
        <button type="button" role="tab" aria-selected={tab() === "changes"} onClick={() => setSearch({ tab: "changes" }, { replace: true })}>
          Changes
          <Show when={filesChanged() > 0}><span class="count">{filesChanged()}</span></Show>
        </button>
      </nav>
      <Show when={session.chat()?.forkedFrom?.split("@")}>
        {(from) => <p class="forked-from muted small">Forked from <a href={`/chats/${from()[0]}`}>another chat</a> at <code>{from()[1]?.slice(0, 7)}</code></p>}
      </Show>
      <Show when={reconnecting()}>
        <div class="reconnecting" role="status">reconnecting…</div>
      </Show>
      <Show when={session.loadError() && !session.chat()}>
        <p class="error-text pad" role="alert">{session.loadError()}</p>
      </Show>
      <Show when={session.chat()?.status === "error" && !session.chat()?.sessionId}>
        <p class="error-text pad" role="alert">This chat could not start: {session.chat()?.error}</p>
      </Show>
      <Show when={tab() === "chat"} fallback={
        <div class="changes-scroll">
          <Changes chatId={props.chatId} title={title()} onBox={!!session.chat()?.sessionId} version={changesVersion()} onFiles={setFilesSeen} />
        </div>
      }>
        <Show when={busy()}><Todos todos={t().todos} /></Show>
        <TranscriptView session={session} root={session.chat()?.directory} fork={session.chat()?.sessionId ? forkFromMessage : undefined} />
      </Show>
      <NeedsYou session={session} root={session.chat()?.directory} />
      <Show when={tab() === "chat"}>
        <Composer chatId={props.chatId} session={session} busy={busy()} />
      </Show>
    </div>
  );
}
