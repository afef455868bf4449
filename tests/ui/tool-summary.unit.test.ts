import type { ToolPart } from "@opencode-ai/sdk/v2/client";
import { describe, expect, it } from "vitest";
import { relativePath, summarizeTool, toolDetails } from "../../ui/src/chat/tool-summary.ts";

const ROOT = "/data/worktrees/acme/widgets/01JCHAT";
type State = Record<string, unknown> & { status: string };
const part = (tool: string, state: State) => ({ id: "prt_1", sessionID: "ses_1", messageID: "msg_1", type: "tool", callID: "call_1", tool, state }) as unknown as ToolPart;
const done = (input: Record<string, unknown>, extra: Record<string, unknown> = {}): State => ({ status: "completed", input, output: "ok", title: "", metadata: {}, time: { start: 1, end: 2 }, ...extra });

describe("tool cards: one folded line a person can read", () => {
  it("names files relative to the chat's worktree", () => {
    expect(summarizeTool(part("write", done({ filePath: `${ROOT}/src/app.ts` })), ROOT)).toEqual({ verb: "wrote", target: "src/app.ts", state: "ok" });
    expect(relativePath("/elsewhere/x.ts", ROOT)).toBe("/elsewhere/x.ts");
  });

  it("shows an edit's +/− from opencode's filediff metadata", () => {
    const s = summarizeTool(part("edit", done({ filePath: `${ROOT}/a.ts` }, { metadata: { filediff: { additions: 4, deletions: 1 } } })), ROOT);
    expect(s).toMatchObject({ verb: "edited", target: "a.ts", stat: "+4 \u22121", state: "ok" });
  });

  it("a bash run with a non-zero exit is failed, and long commands fold to one line", () => {
    const s = summarizeTool(part("bash", done({ command: "npm test\nnpm run lint" }, { metadata: { exit: 1 } })));
    expect(s).toEqual({ verb: "ran", target: "npm test…", code: true, state: "failed" });
    expect(summarizeTool(part("bash", { status: "running", input: { command: "ls" }, time: { start: 1 } })).verb).toBe("running");
  });

  it("an unknown tool falls back to its name and title", () => {
    expect(summarizeTool(part("mcp_thing", done({}, { title: "did a thing" })))).toEqual({ verb: "mcp_thing", target: "did a thing", state: "ok" });
  });

  it("details show the input readably and the output or error", () => {
    expect(toolDetails(part("bash", done({ command: "ls -la" })))).toEqual({ input: "ls -la", output: "ok" });
    const edit = toolDetails(part("edit", { status: "error", input: { filePath: `${ROOT}/a.ts`, oldString: "x", newString: "y" }, error: "no match", time: { start: 1, end: 2 } }), ROOT);
    expect(edit).toEqual({ input: "a.ts\n\n- x\n+ y", error: "no match" });
    // Paths inside JSON inputs lose the worktree prefix too.
    expect(toolDetails(part("glob", done({ path: `${ROOT}/src`, pattern: "*.ts" })), ROOT).input).toContain('"path": "src"');
  });
});
