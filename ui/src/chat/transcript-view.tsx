import { createMemo, createSignal, For, onCleanup, onMount, Show } from "solid-js";
import type { ChatSession } from "./chat-session.ts";
import { MessageView } from "./parts.tsx";
import { deliveredPromptIds } from "./transcript.ts";

const WINDOW = 50;
const PIN_SLACK_PX = 80;

type Pending = { id: string; text: string; label: string; refused?: boolean; local: boolean };

/** Prompts not in the transcript yet: typed here and not accepted, or waiting in the worker's/box's queue. */
function pendingPrompts(session: ChatSession): Pending[] {
  const t = session.transcript;
  const local = session.outbox.items().map((p) => ({ id: p.promptId, text: p.text, label: p.error ?? "sending…", refused: p.refused, local: true }));
  const delivered = deliveredPromptIds(t);
  const oldest = t.messages[0]?.info.time.created ?? 0;
  const server = session.prompts()
    .filter((p) => !delivered.has(p.id) && !local.some((l) => l.id === p.id))
    .filter((p) => p.state === "queued" || (t.loaded && Date.parse(p.createdAt) >= oldest))
    .map((p) => ({ id: p.id, text: p.text, label: p.state === "failed" ? `failed: ${p.error ?? "refused"}` : "queued", refused: p.state === "failed", local: false }));
  return [...server, ...local];
}

/** The scrolling transcript: the last ~50 messages, older ones on scroll-up, pinned to the bottom while you read the end. */
export function TranscriptView(props: { session: ChatSession; root?: string; fork?: (messageId: string) => Promise<void> }) {
  const [limit, setLimit] = createSignal(WINDOW);
  const [loadingOlder, setLoadingOlder] = createSignal(false);
  const messages = () => props.session.transcript.messages;
  const visible = createMemo(() => (messages().length > limit() ? messages().slice(messages().length - limit()) : messages()));
  const hasOlder = () => messages().length > limit() || !!props.session.transcript.olderCursor;
  const pending = createMemo(() => pendingPrompts(props.session));
  // The failed message shows its own error; a session error without one is shown at the end.
  const runError = () => {
    const last = messages().at(-1)?.info;
    return last?.role === "assistant" && last.error ? undefined : props.session.transcript.error;
  };
  let scroller: HTMLDivElement | undefined;
  let content: HTMLDivElement | undefined;
  let sentinel: HTMLDivElement | undefined;
  let pinned = true;
  let lastTop = 0;

  const toBottom = () => scroller && (scroller.scrollTop = scroller.scrollHeight);
  // Scroll events arrive a frame late, after more content may have landed: only a move up unpins.
  const onScroll = () => {
    if (!scroller) return;
    const top = scroller.scrollTop;
    if (top + scroller.clientHeight >= scroller.scrollHeight - PIN_SLACK_PX) pinned = true;
    else if (top < lastTop) pinned = false;
    lastTop = top;
  };

  async function older() {
    if (loadingOlder() || !scroller) return;
    setLoadingOlder(true);
    const fromBottom = scroller.scrollHeight - scroller.scrollTop;
    try {
      if (messages().length <= limit()) await props.session.loadOlder();
      setLimit((n) => n + WINDOW);
    } finally {
      setLoadingOlder(false);
      requestAnimationFrame(() => scroller && (scroller.scrollTop = scroller.scrollHeight - fromBottom));
    }
  }

  onMount(() => {
    const resize = new ResizeObserver(() => pinned && toBottom());
    if (content) resize.observe(content);
    if (scroller) resize.observe(scroller);
    const top = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting) && hasOlder() && !pinned) void older();
    }, { root: scroller, rootMargin: "200px 0px 0px 0px" });
    if (sentinel) top.observe(sentinel);
    toBottom();
    onCleanup(() => (resize.disconnect(), top.disconnect()));
  });

  return (
    <div class="transcript" ref={scroller} onScroll={onScroll}>
      <div class="transcript-inner" ref={content}>
        <div ref={sentinel} />
        <Show when={hasOlder()}>
          <button type="button" class="older" disabled={loadingOlder()} onClick={older}>
            {loadingOlder() ? "Loading…" : "Earlier messages"}
          </button>
        </Show>
        <Show when={props.session.transcript.loaded && messages().length === 0 && pending().length === 0}>
          <p class="empty muted">Nothing here yet. Tell the agent what to do.</p>
        </Show>
        <Show when={!props.session.transcript.loaded && messages().length === 0}>
          <p class="empty muted" role="status">{props.session.chat()?.sessionId ? "Loading the conversation…" : "Waiting for the box to set up this chat…"}</p>
        </Show>
        <For each={visible()}>{(entry) => <MessageView entry={entry} ctx={{ root: props.root, fork: props.fork }} />}</For>
        <For each={pending()}>
          {(p) => (
            <div class="msg user pending" data-prompt-id={p.id}>
              <div class="bubble">{p.text}</div>
              <div class="pending-label" classList={{ bad: !!p.refused }}>{p.label}</div>
              <Show when={p.local && p.refused}>
                <div class="pending-actions">
                  <button type="button" onClick={() => props.session.outbox.retry(p.id)}>Retry</button>
                  <button type="button" onClick={() => props.session.outbox.discard(p.id)}>Discard</button>
                </div>
              </Show>
            </div>
          )}
        </For>
        <Show when={runError()}>{(e) => <div class="run-error" role="alert">{e()}</div>}</Show>
      </div>
    </div>
  );
}
