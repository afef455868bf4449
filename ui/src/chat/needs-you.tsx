import type { PermissionRequest, QuestionInfo, QuestionRequest } from "@opencode-ai/sdk/v2/client";
import { createSignal, For, Index, Show } from "solid-js";
import type { ChatSession } from "./chat-session.ts";
import { relativePath } from "./tool-summary.ts";

type Reply = "once" | "always" | "reject";

/** One tap answers: the request is what the user came back for. Replies go with the chat's directory. */
export function NeedsYou(props: { session: ChatSession; root?: string }) {
  const t = () => props.session.transcript;
  return (
    <Show when={t().permissions.length + t().questions.length > 0}>
      <section class="needs-you" aria-label="Needs you">
        <For each={t().permissions}>{(p) => <PermissionCard request={p} session={props.session} root={props.root} />}</For>
        <For each={t().questions}>{(q) => <QuestionCard request={q} session={props.session} />}</For>
      </section>
    </Show>
  );
}

function describe(p: PermissionRequest, root?: string): { title: string; detail?: string } {
  const meta = p.metadata ?? {};
  const pick = (k: string) => (typeof meta[k] === "string" ? (meta[k] as string) : undefined);
  const patterns = p.patterns.join("\n");
  switch (p.permission) {
    case "bash":
      return { title: "Run this command?", detail: pick("command") ?? patterns };
    case "edit":
      return { title: "Edit this file?", detail: relativePath(pick("filepath") ?? pick("filePath"), root) ?? patterns };
    case "webfetch":
      return { title: "Fetch this URL?", detail: pick("url") ?? patterns };
    case "external_directory":
      return { title: "Work outside the repo?", detail: patterns };
    default:
      return { title: `Allow ${p.permission}?`, detail: patterns || undefined };
  }
}

function useSend(session: ChatSession, id: string) {
  const [busy, setBusy] = createSignal(false);
  const [error, setError] = createSignal<string>();
  const run = async (call: () => Promise<{ error?: unknown; response?: Response }>) => {
    setBusy(true);
    setError(undefined);
    try {
      const r = await call();
      if (r.error !== undefined) throw new Error(`the box answered ${r.response?.status ?? "nothing"}`);
      session.dropRequest(id);
    } catch (err) {
      setError(`Not sent: ${(err as Error).message}. Try again.`);
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, run };
}

function PermissionCard(props: { request: PermissionRequest; session: ChatSession; root?: string }) {
  const send = useSend(props.session, props.request.id);
  const d = () => describe(props.request, props.root);
  const reply = (reply: Reply) => send.run(() => props.session.client()!.permission.reply({ requestID: props.request.id, reply }));
  return (
    <div class="card need" role="group" aria-label={d().title}>
      <div class="need-title">{d().title}</div>
      <Show when={d().detail}>{(detail) => <pre class="need-detail">{detail()}</pre>}</Show>
      <div class="need-actions">
        <button type="button" class="primary" disabled={send.busy()} onClick={() => reply("once")}>Allow once</button>
        <button type="button" disabled={send.busy()} onClick={() => reply("always")}>Always</button>
        <button type="button" class="danger" disabled={send.busy()} onClick={() => reply("reject")}>Deny</button>
      </div>
      <Show when={send.error()}>{(e) => <div class="need-error" role="alert">{e()}</div>}</Show>
    </div>
  );
}

function QuestionCard(props: { request: QuestionRequest; session: ChatSession }) {
  const send = useSend(props.session, props.request.id);
  const [answers, setAnswers] = createSignal<string[][]>(props.request.questions.map(() => []));
  const single = () => props.request.questions.length === 1 && !props.request.questions[0]!.multiple;
  const client = () => props.session.client()!;
  const submit = (a: string[][]) => send.run(() => client().question.reply({ requestID: props.request.id, answers: a }));
  const choose = (qi: number, q: QuestionInfo, label: string) => {
    if (single()) return void submit([[label]]);
    setAnswers((all) => all.map((sel, i) => {
      if (i !== qi) return sel;
      if (!q.multiple) return [label];
      return sel.includes(label) ? sel.filter((l) => l !== label) : [...sel, label];
    }));
  };
  const setCustom = (qi: number, text: string) => setAnswers((all) => all.map((sel, i) => (i === qi ? (text.trim() ? [text.trim()] : []) : sel)));
  return (
    <div class="card need" role="group" aria-label="Question">
      <Index each={props.request.questions}>
        {(q, qi) => (
          <div class="question">
            <Show when={q().header && !q().question.startsWith(q().header)}><div class="need-kicker">{q().header}</div></Show>
            <div class="need-title">{q().question}</div>
            <div class="options">
              <For each={q().options}>
                {(o) => (
                  <button type="button" class="option" aria-pressed={answers()[qi]?.includes(o.label)} disabled={send.busy()} onClick={() => choose(qi, q(), o.label)}>
                    <span class="option-label">{o.label}</span>
                    <Show when={o.description && o.description !== o.label}><span class="option-desc">{o.description}</span></Show>
                  </button>
                )}
              </For>
            </div>
            <Show when={q().custom !== false}>
              <input type="text" placeholder="Or type an answer" aria-label="Your own answer" onInput={(e) => setCustom(qi, e.currentTarget.value)}
                onKeyDown={(e) => e.key === "Enter" && single() && answers()[0]!.length > 0 && submit(answers())} />
            </Show>
          </div>
        )}
      </Index>
      <div class="need-actions">
        <Show when={!single() || props.request.questions[0]!.custom !== false}>
          <button type="button" class="primary" disabled={send.busy() || answers().some((a) => a.length === 0)} onClick={() => submit(answers())}>Send answer</button>
        </Show>
        <button type="button" disabled={send.busy()} onClick={() => send.run(() => client().question.reject({ requestID: props.request.id }))}>Dismiss</button>
      </div>
      <Show when={send.error()}>{(e) => <div class="need-error" role="alert">{e()}</div>}</Show>
    </div>
  );
}
