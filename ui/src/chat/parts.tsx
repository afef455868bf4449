import type { AssistantMessage, Part, ReasoningPart, TextPart, ToolPart } from "@opencode-ai/sdk/v2/client";
import { createMemo, createSignal, For, Match, Show, Switch } from "solid-js";
import { renderMarkdown } from "./markdown.ts";
import { summarizeTool, toolDetails } from "./tool-summary.ts";
import type { Entry } from "./transcript.ts";

type Ctx = { root?: string; fork?: (messageId: string) => Promise<void> };

export function MessageView(props: { entry: Entry; ctx: Ctx }) {
  return (
    <Show when={props.entry.info.role === "user"} fallback={<AgentMessage entry={props.entry} ctx={props.ctx} />}>
      <UserMessage entry={props.entry} fork={props.ctx.fork} />
    </Show>
  );
}

function UserMessage(props: { entry: Entry; fork?: Ctx["fork"] }) {
  const text = () => props.entry.parts.filter((p): p is TextPart => p.type === "text" && !p.synthetic).map((p) => p.text).join("\n\n");
  const files = () => props.entry.parts.filter((p) => p.type === "file");
  const [actions, setActions] = createSignal(false);
  const [state, setState] = createSignal<string>();
  const fork = async () => {
    setState("Forking…");
    try {
      await props.fork!(props.entry.id);
    } catch (err) {
      setState((err as Error).message);
    }
  };
  return (
    <div class="msg user" data-message-id={props.entry.id}>
      <div class="bubble" onClick={() => props.fork && setActions(!actions())}>
        {text()}
        <For each={files()}>{(f) => <FileChip part={f} />}</For>
      </div>
      <Show when={actions()}>
        <div class="msg-actions">
          <button type="button" disabled={state() === "Forking…"} onClick={fork}>Fork a new chat from here</button>
          <Show when={state()}>{(s) => <span class="muted small" role="status">{s()}</span>}</Show>
        </div>
      </Show>
    </div>
  );
}

/** An image the user sent shows as a thumbnail (data: URLs only: nothing is fetched from elsewhere). */
function FileChip(props: { part: Part }) {
  const file = () => props.part as Part & { mime?: string; url?: string; filename?: string };
  const image = () => file().mime?.startsWith("image/") && file().url?.startsWith("data:");
  return (
    <Show when={image()} fallback={<div class="attachment">{file().filename ?? file().mime ?? "file"}</div>}>
      <img class="attachment-thumb" src={file().url} alt={file().filename ?? "image"} loading="lazy" />
    </Show>
  );
}

function AgentMessage(props: { entry: Entry; ctx: Ctx }) {
  const info = () => props.entry.info as AssistantMessage;
  const error = () => {
    const e = info().error;
    if (!e) return undefined;
    if (e.name === "MessageAbortedError") return "stopped";
    return ("message" in e.data && typeof e.data.message === "string" && e.data.message) || e.name;
  };
  return (
    <div class="msg agent" data-message-id={props.entry.id}>
      <For each={props.entry.parts}>{(part) => <PartView part={part} done={!!info().time.completed} ctx={props.ctx} />}</For>
      <Show when={error()}>{(e) => <div class="run-error" role="status">{e() === "stopped" ? "Stopped." : `Failed: ${e()}`}</div>}</Show>
    </div>
  );
}

function PartView(props: { part: Part; done: boolean; ctx: Ctx }) {
  return (
    <Switch>
      <Match when={props.part.type === "text" && !(props.part as TextPart).synthetic}>
        <TextView part={props.part as TextPart} done={props.done} />
      </Match>
      <Match when={props.part.type === "reasoning"}>
        <Reasoning part={props.part as ReasoningPart} />
      </Match>
      <Match when={props.part.type === "tool"}>
        <ToolCard part={props.part as ToolPart} root={props.ctx.root} />
      </Match>
      <Match when={props.part.type === "file"}>
        <FileChip part={props.part} />
      </Match>
      <Match when={props.part.type === "retry"}>
        <div class="note">retrying (attempt {(props.part as { attempt: number }).attempt})…</div>
      </Match>
      <Match when={props.part.type === "compaction"}>
        <div class="note">— earlier context summarized —</div>
      </Match>
      <Match when={props.part.type === "subtask"}>
        <div class="note">subtask: {(props.part as { description: string }).description}</div>
      </Match>
    </Switch>
  );
}

function TextView(props: { part: TextPart; done: boolean }) {
  const html = createMemo(() => (props.part.text ? renderMarkdown(props.part.text) : ""));
  const writing = () => !props.part.text && !props.part.time?.end && !props.done;
  return (
    <Show when={html()} fallback={<Show when={writing()}><div class="writing" aria-live="polite">writing…</div></Show>}>
      <div class="md" innerHTML={html()} />
    </Show>
  );
}

function Reasoning(props: { part: ReasoningPart }) {
  return (
    <Show when={props.part.text.trim()}>
      <details class="reasoning">
        <summary>{props.part.time.end ? "Thought" : "Thinking…"}</summary>
        <div class="reasoning-text">{props.part.text}</div>
      </details>
    </Show>
  );
}

export function ToolCard(props: { part: ToolPart; root?: string }) {
  const [open, setOpen] = createSignal(false);
  const sum = createMemo(() => summarizeTool(props.part, props.root));
  const details = createMemo(() => (open() ? toolDetails(props.part, props.root) : undefined));
  return (
    <div class="tool" data-state={sum().state} data-tool={props.part.tool}>
      <button type="button" class="tool-line" aria-expanded={open()} onClick={() => setOpen(!open())}>
        <span class="tool-icon" aria-hidden="true">{sum().state === "running" ? "" : sum().state === "ok" ? "✓" : "✗"}</span>
        <span class="tool-text">
          {sum().verb}{" "}
          <Show when={sum().target}>{(t) => (sum().code ? <code>{t()}</code> : <span class="tool-target">{t()}</span>)}</Show>
          <Show when={sum().stat}>{(st) => <span class="tool-stat"> {st()}</span>}</Show>
        </span>
        <span class="sr-only">{sum().state === "running" ? "running" : sum().state === "ok" ? "succeeded" : "failed"}</span>
      </button>
      <Show when={details()}>
        {(d) => (
          <div class="tool-details">
            <pre class="tool-input">{d().input}</pre>
            <Show when={d().output}>{(o) => <pre class="tool-output">{o()}</pre>}</Show>
            <Show when={d().error}>{(e) => <pre class="tool-output bad">{e()}</pre>}</Show>
          </div>
        )}
      </Show>
    </div>
  );
}
