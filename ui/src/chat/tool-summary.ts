import type { ToolPart } from "@opencode-ai/sdk/v2/client";

export type ToolSummary = { verb: string; target?: string; code?: boolean; stat?: string; state: "running" | "ok" | "failed" };

const str = (v: unknown) => (typeof v === "string" ? v : undefined);
const num = (v: unknown) => (typeof v === "number" ? v : undefined);

/** A path as the user knows it: relative to the chat's worktree. */
export function relativePath(path: string | undefined, root: string | undefined): string | undefined {
  if (!path || !root) return path;
  const prefix = root.endsWith("/") ? root : `${root}/`;
  return path.startsWith(prefix) ? path.slice(prefix.length) : path;
}

function oneLine(s: string | undefined, max = 80): string | undefined {
  if (!s) return s;
  const line = s.trim().split("\n")[0] ?? "";
  return line.length > max || s.trim().includes("\n") ? `${line.slice(0, max)}…` : line;
}

/** The one line a tool call shows folded: "wrote notes.txt", "ran `npm test`", "edited src/app.ts +4 −1". */
export function summarizeTool(part: ToolPart, root?: string): ToolSummary {
  const s = part.state;
  const input = s.input ?? {};
  const meta = (s.status === "pending" ? {} : (s.metadata ?? {})) as Record<string, unknown>;
  const exit = num(meta.exit);
  const failed = s.status === "error" || (part.tool === "bash" && exit !== undefined && exit !== 0);
  const state = s.status === "pending" || s.status === "running" ? "running" : failed ? "failed" : "ok";
  const done = state !== "running";
  const file = relativePath(str(input.filePath) ?? str(input.path), root);
  const filediff = meta.filediff as { additions?: number; deletions?: number } | undefined;
  const lines = filediff && (filediff.additions !== undefined || filediff.deletions !== undefined)
    ? `+${filediff.additions ?? 0} \u2212${filediff.deletions ?? 0}` : undefined;
  switch (part.tool) {
    case "write":
      return { verb: done ? "wrote" : "writing", target: file, state };
    case "edit":
    case "multiedit":
      return { verb: done ? "edited" : "editing", target: file, stat: lines, state };
    case "apply_patch":
    case "patch":
      return { verb: done ? "patched" : "patching", target: oneLine(s.status === "completed" ? s.title : undefined) ?? "files", state };
    case "read":
      return { verb: done ? "read" : "reading", target: file, state };
    case "bash":
      return { verb: done ? "ran" : "running", target: oneLine(str(input.command)), code: true, state };
    case "glob":
    case "grep":
      return { verb: done ? "searched" : "searching", target: oneLine(str(input.pattern)), code: true, state };
    case "list":
      return { verb: "listed", target: file ?? ".", state };
    case "webfetch":
      return { verb: done ? "fetched" : "fetching", target: oneLine(str(input.url)), state };
    case "websearch":
      return { verb: "searched the web for", target: oneLine(str(input.query)), state };
    case "todowrite":
      return { verb: "updated the todo list", state };
    case "todoread":
      return { verb: "read the todo list", state };
    case "task":
      return { verb: done ? "subagent finished" : "subagent working", target: oneLine(str(input.description)), state };
    case "question":
      return { verb: done ? "asked" : "asking", target: oneLine(str((input.questions as Array<{ header?: string }> | undefined)?.[0]?.header)), state };
    default:
      return { verb: part.tool, target: oneLine(s.status === "completed" || s.status === "running" ? s.title : undefined), state };
  }
}

/** What the card shows unfolded: the call's input, readable for the common tools, and its output or error. */
export function toolDetails(part: ToolPart, root?: string): { input: string; output?: string; error?: string } {
  const s = part.state;
  const input = s.input ?? {};
  const file = relativePath(str(input.filePath), root);
  const prefix = root ? (root.endsWith("/") ? root : `${root}/`) : undefined;
  const shown = (() => {
    if (part.tool === "bash") return str(input.command) ?? "";
    if (part.tool === "write" && file) return `${file}\n\n${str(input.content) ?? ""}`;
    if (part.tool === "edit" && file) return `${file}\n\n${prefixLines(str(input.oldString), "- ")}\n${prefixLines(str(input.newString), "+ ")}`;
    if (part.tool === "read" && file) return file;
    const json = JSON.stringify(input, null, 2);
    return prefix ? json.split(prefix).join("") : json;
  })();
  if (s.status === "completed") return { input: shown, output: s.output };
  if (s.status === "error") return { input: shown, error: s.error };
  return { input: shown };
}

function prefixLines(text: string | undefined, mark: string): string {
  return (text ?? "").split("\n").map((l) => mark + l).join("\n");
}
