import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { git, makeRemote, type Remote } from "../helpers/git-fixture.ts";
import { newChatId, startTestBox, type BoxHarness } from "../helpers/box-harness.ts";

let remote: Remote;
let box: BoxHarness;
beforeAll(async () => {
  remote = await makeRemote({ owner: "acme", name: "app" });
  box = await startTestBox({ baseUrl: remote.baseUrl });
}, 120_000);
afterAll(async () => {
  await box?.dispose();
  await remote?.cleanup();
});

describe("an archived chat whose worktree disk GC removed", () => {
  const chatId = newChatId();
  let worktree: string;
  let sessionId: string;
  const oc = (route: string) => box.call("GET", `/oc${route}${route.includes("?") ? "&" : "?"}directory=${encodeURIComponent(worktree)}`);

  beforeAll(async () => {
    ({ worktree, sessionId } = (await box.call("POST", "/mgmt/chats", { chatId, repo: "acme/app" })).json as { worktree: string; sessionId: string });
    await box.call("POST", `/mgmt/chats/${chatId}/prompts`, { promptId: "p1", text: "write kept.txt: made before GC\nsay: done" });
    await box.waitForChat(chatId, (c) => c.status === "idle");
    expect((await box.call("PATCH", `/mgmt/chats/${chatId}`, { archived: true })).status).toBe(200);
    const gc = (await box.call("POST", "/mgmt/gc", {})).json as { removed: Array<{ path: string }> };
    expect(gc.removed.map((r) => r.path)).toContain(worktree);
    expect(existsSync(worktree)).toBe(false);
  }, 120_000);

  it("is checked out again on its branch before opencode reads it, transcript and work intact", async () => {
    const messages = await oc(`/session/${sessionId}/message`);
    expect(messages.status).toBe(200);
    expect(JSON.stringify(messages.json)).toContain("made before GC");
    expect(readFileSync(path.join(worktree, "kept.txt"), "utf8")).toContain("made before GC");
    expect((await git(worktree, ["branch", "--show-current"])).trim()).toBe(`ocweb/${chatId}`);
  });

  it("opencode opens it as the repo's project, never as a missing directory", async () => {
    const pathInfo = await oc("/path");
    expect(pathInfo.status).toBe(200);
    expect((pathInfo.json as { directory: string }).directory).toBe(worktree);
    expect((await oc("/provider")).status).toBe(200);
  });
});
