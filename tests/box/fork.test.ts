import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commitToRemote, makeRemote } from "../helpers/git-fixture.ts";
import { newChatId, startTestBox, type BoxHarness } from "../helpers/box-harness.ts";

type Checkpoint = { sha: string; message: string; files: string[]; filesChanged: number; pushed: boolean };
type BoxChat = { chatId: string; worktree: string; branch: string; baseCommit: string; status: string };

let remote: Awaited<ReturnType<typeof makeRemote>>;
let box: BoxHarness;

beforeAll(async () => {
  remote = await makeRemote({ owner: "acme", name: "widgets", files: { "README.md": "# widgets\n" } });
  box = await startTestBox({ baseUrl: remote.baseUrl });
});
afterAll(async () => {
  await box?.dispose();
  await remote?.cleanup();
});

async function runPrompt(chatId: string, promptId: string, text: string) {
  expect((await box.call("POST", `/mgmt/chats/${chatId}/prompts`, { promptId, text })).status).toBe(202);
  return (await box.waitForChat(chatId, (c) => c.status === "idle")) as unknown as BoxChat;
}

const checkpointsOf = async (chatId: string) => ((await box.call("GET", `/mgmt/chats/${chatId}/checkpoints`)).json as { checkpoints: Checkpoint[] }).checkpoints;

describe("snapshots: every checkpoint with its files, and a new chat forked from any of them", () => {
  const parent = newChatId();
  const child = newChatId();

  it("lists the parent's checkpoints newest first, each with the files it touched", async () => {
    expect((await box.call("POST", "/mgmt/chats", { chatId: parent, repo: "acme/widgets" })).status).toBe(201);
    await runPrompt(parent, "p-fork-1", "write one.txt: first\nsay: one");
    await runPrompt(parent, "p-fork-2", "write two.txt: second\nsay: two");
    const cps = await checkpointsOf(parent);
    expect(cps.map((c) => c.files)).toEqual([["two.txt"], ["one.txt"]]);
    expect(cps.map((c) => c.message.split("\n")[0])).toEqual(["write two.txt: second", "write one.txt: first"]);
    expect(cps.every((c) => c.pushed)).toBe(true);
  });

  it("a fork from the first checkpoint has its files, not the later ones, on its own branch and worktree", async () => {
    const [, first] = await checkpointsOf(parent);
    // The base moves meanwhile: a fork must still start at the checkpoint, not at the new tip.
    await commitToRemote(remote.remotePath, { "upstream.txt": "moved\n" }, "upstream moves", "main");
    const res = await box.call("POST", "/mgmt/chats", { chatId: child, repo: "acme/widgets", fromCommit: first!.sha });
    expect(res.status).toBe(201);
    const chat = res.json as BoxChat;
    expect(chat.branch).toBe(`ocweb/${child}`);
    expect(readFileSync(path.join(chat.worktree, "one.txt"), "utf8")).toBe("first");
    expect(existsSync(path.join(chat.worktree, "two.txt"))).toBe(false);
    expect(existsSync(path.join(chat.worktree, "upstream.txt"))).toBe(false);
    const head = (await execa("git", ["rev-parse", "HEAD"], { cwd: chat.worktree })).stdout.trim();
    expect(head).toBe(first!.sha);

    // Its history since the base includes the checkpoint it came from; its diff is against the base.
    expect((await checkpointsOf(child)).map((c) => c.sha)).toEqual([first!.sha]);
    const diff = (await box.call("GET", `/mgmt/chats/${child}/diff`)).json as { files: Array<{ path: string }> };
    expect(diff.files.map((f) => f.path)).toEqual(["one.txt"]);
  });

  it("the fork runs prompts of its own; the parent is untouched", async () => {
    const chat = await runPrompt(child, "p-fork-3", "write three.txt: third\nsay: three");
    expect(readFileSync(path.join(chat.worktree, "three.txt"), "utf8")).toBe("third");
    const parentChat = (await box.call("GET", `/mgmt/chats/${parent}`)).json as BoxChat;
    expect(existsSync(path.join(parentChat.worktree, "three.txt"))).toBe(false);
    expect((await checkpointsOf(child)).map((c) => c.files)).toEqual([["three.txt"], ["one.txt"]]);
  });

  it("refuses a commit that is not in the repo, and anything that is not a sha", async () => {
    const unknown = await box.call("POST", "/mgmt/chats", { chatId: newChatId(), repo: "acme/widgets", fromCommit: "0".repeat(40) });
    expect(unknown.status).toBe(400);
    expect(JSON.stringify(unknown.json)).toMatch(/not in acme\/widgets/);
    const option = await box.call("POST", "/mgmt/chats", { chatId: newChatId(), repo: "acme/widgets", fromCommit: "--all" });
    expect(option.status).toBe(400);
  });
});
