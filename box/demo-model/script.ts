/**
 * What the scripted demo model answers: a pure function from a chat-completions request to an Answer.
 *
 * Script language, read from the text of the LATEST user message. Each line starting with a directive is
 * one step, in order (other lines are ignored):
 *   write <path>: <content>               write tool; `\n` in content means a newline
 *   edit <path>: <old> => <new>           edit tool; `\n` in old/new means a newline
 *   bash: <command>                       bash tool
 *   ask: <question> | <opt1> | <opt2>...  question tool
 *   say: <text>                           text of the final answer
 *   sleep: <ms>                           stream a short chunk, wait <ms>, then go on with the next step
 * Paths are relative to the session directory (made absolute with the "Working directory:" line of the
 * system prompt). The model is stateless: the number of role "tool" messages after the latest user message
 * is the number of tool calls done. One tool call per response; when all are done, the final answer is the
 * `say:` texts, or else a summary like "Done: wrote hello.txt, ran `ls`.".
 * No directives (a human typing freely): write ocweb-demo/<slug>.md with the prompt, then a friendly reply.
 * A request whose system prompt asks for a title (and offers no tools) gets the user's first words.
 */
import path from "node:path";
import { z } from "zod";

const contentPart = z.looseObject({ type: z.string(), text: z.string().optional() });
const message = z.looseObject({
  role: z.string(),
  content: z.union([z.string(), z.array(contentPart), z.null()]).optional(),
});
const tool = z.looseObject({ function: z.looseObject({ name: z.string() }) });

export const chatCompletionRequestSchema = z.looseObject({
  model: z.string(),
  messages: z.array(message).min(1),
  tools: z.array(tool).optional(),
  stream: z.boolean().optional(),
});
export type ChatCompletionRequest = z.infer<typeof chatCompletionRequestSchema>;

export type Action =
  | { type: "text"; text: string }
  | { type: "pause"; ms: number }
  | { type: "tool"; name: string; args: Record<string, unknown> };

type Call = { kind: "call"; name: string; args: Record<string, unknown>; done: string };
type Item = Call | { kind: "say"; text: string } | { kind: "sleep"; ms: number };

export const WORD_PAUSE_MS = 15;
const DEMO_DIR = "ocweb-demo";

export function answer(req: ChatCompletionRequest): Action[] {
  const lastUser = req.messages.map((m) => m.role).lastIndexOf("user");
  const prompt = lastUser < 0 ? "" : textOf(req.messages[lastUser]?.content);
  const system = req.messages.filter((m) => m.role === "system").map((m) => textOf(m.content)).join("\n");
  const toolNames = new Set((req.tools ?? []).map((t) => t.function.name));
  if (toolNames.size === 0) return [{ type: "text", text: /title/i.test(system) ? titleOf(prompt) : noToolsReply(prompt) }];

  const cwd = /Working directory: (.+)/.exec(system)?.[1]?.trim();
  const done = req.messages.slice(lastUser + 1).filter((m) => m.role === "tool").length;
  const items = parseScript(prompt, cwd);
  if (items.length === 0) return demoAnswer(prompt, cwd, done, toolNames);
  return scriptedAnswer(items, done, toolNames);
}

export function parseScript(prompt: string, cwd?: string): Item[] {
  const abs = (p: string) => (cwd && !path.isAbsolute(p) ? path.join(cwd, p) : p);
  return prompt.split(/\r?\n/).flatMap((raw): Item[] => {
    const line = raw.trimStart();
    let m = /^write\s+([^:]+):\s?(.*)$/.exec(line);
    if (m) {
      const [file, content] = [m[1]!.trim(), unescape(m[2]!)];
      return [{ kind: "call", name: "write", args: { filePath: abs(file), content }, done: `wrote ${file}` }];
    }
    m = /^edit\s+([^:]+):\s?(.*?)\s?=>\s?(.*)$/.exec(line);
    if (m) {
      const file = m[1]!.trim();
      const args = { filePath: abs(file), oldString: unescape(m[2]!), newString: unescape(m[3]!) };
      return [{ kind: "call", name: "edit", args, done: `edited ${file}` }];
    }
    m = /^bash:\s?(.*)$/.exec(line);
    if (m) return [{ kind: "call", name: "bash", args: { command: m[1]! }, done: `ran \`${m[1]}\`` }];
    m = /^ask:\s?(.*)$/.exec(line);
    if (m) return [askCall(m[1]!)];
    m = /^say:\s?(.*)$/.exec(line);
    if (m) return [{ kind: "say", text: m[1]! }];
    m = /^sleep:\s?(\d+)\s*$/.exec(line);
    if (m) return [{ kind: "sleep", ms: Number(m[1]) }];
    return [];
  });
}

function askCall(spec: string): Call {
  const [question = "", ...labels] = spec.split("|").map((s) => s.trim());
  const options = labels.filter(Boolean).map((label) => ({ label, description: label }));
  const questions = [{ question, header: question.slice(0, 30), options }];
  return { kind: "call", name: "question", args: { questions }, done: `asked "${question}"` };
}

function scriptedAnswer(items: Item[], done: number, toolNames: Set<string>): Action[] {
  const callAt = items.flatMap((it, i) => (it.kind === "call" ? [i] : []));
  const next = callAt[done];
  const from = done === 0 ? 0 : (callAt[done - 1] ?? items.length) + 1;
  if (next !== undefined) {
    const call = items[next] as Call;
    const sleeps = items.slice(from, next).flatMap((it) => (it.kind === "sleep" ? sleepActions(it.ms) : []));
    if (!toolNames.has(call.name)) return [...sleeps, { type: "text", text: `The ${call.name} tool is not available here.` }];
    return [...sleeps, { type: "tool", name: call.name, args: call.args }];
  }
  const earlierSays = items.slice(0, from).flatMap((it) => (it.kind === "say" ? [it.text] : []));
  const tail = items.slice(from);
  const says = [...earlierSays, ...tail.flatMap((it) => (it.kind === "say" ? [it.text] : []))];
  const tailSleeps = tail.flatMap((it) => (it.kind === "sleep" ? sleepActions(it.ms) : []));
  if (says.length > 0) return [...tailSleeps, { type: "text", text: says.join("\n\n") }];
  const summary = items.flatMap((it) => (it.kind === "call" ? [it.done] : []));
  return [...tailSleeps, { type: "text", text: summary.length ? `Done: ${summary.join(", ")}.` : "Done." }];
}

function sleepActions(ms: number): Action[] {
  return [{ type: "text", text: `_(working for ${ms} ms…)_\n\n` }, { type: "pause", ms }];
}

function demoAnswer(prompt: string, cwd: string | undefined, done: number, toolNames: Set<string>): Action[] {
  const file = `${DEMO_DIR}/${slugOf(prompt)}.md`;
  if (done === 0 && toolNames.has("write")) {
    const filePath = cwd ? path.join(cwd, file) : file;
    const content = `# ${titleOf(prompt)}\n\n${prompt}\n`;
    return [{ type: "tool", name: "write", args: { filePath, content } }];
  }
  const quoted = prompt.trim().slice(0, 400).split("\n").map((l) => `> ${l}`).join("\n");
  const reply = [
    "Hi! I'm **ocweb's scripted demo model**, a small local stand-in used when no model API key is set.",
    `You asked:\n\n${quoted}`,
    `I saved your prompt to \`${file}\` so the diff and checkpoint views have something to show.`,
    "To talk to a real model, set a key such as `ANTHROPIC_API_KEY` on the box. To script me, start lines with " +
      "`write <path>: <text>`, `edit <path>: <old> => <new>`, `bash: <cmd>`, `ask: <q> | <a> | <b>`, `say: <text>` or `sleep: <ms>`.",
  ].join("\n\n");
  return wordByWord(reply);
}

function wordByWord(text: string): Action[] {
  return text.split(/(?<=\s)/).flatMap((word, i): Action[] =>
    i === 0 ? [{ type: "text", text: word }] : [{ type: "pause", ms: WORD_PAUSE_MS }, { type: "text", text: word }],
  );
}

function noToolsReply(prompt: string) {
  return `Summary: the user asked "${titleOf(prompt)}" and the scripted demo model answered.`;
}

export function titleOf(prompt: string) {
  const words = prompt.trim().split(/\s+/).filter(Boolean).slice(0, 6).join(" ");
  if (!words) return "Demo chat";
  return words.length > 50 ? `${words.slice(0, 49)}…` : words;
}

export function slugOf(prompt: string) {
  const words = prompt.toLowerCase().split(/\s+/).slice(0, 5).join(" ");
  const slug = words.replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 40).replace(/-+$/, "");
  return slug || "note";
}

function unescape(s: string) {
  return s.replace(/\\n/g, "\n");
}

function textOf(content: ChatCompletionRequest["messages"][number]["content"]): string {
  if (typeof content === "string") return content;
  return (content ?? []).flatMap((p) => (p.type === "text" && p.text !== undefined ? [p.text] : [])).join("\n");
}
