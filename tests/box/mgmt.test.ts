import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeRemote } from "../helpers/git-fixture.ts";
import { newChatId, startTestBox, TEST_TOKEN, type BoxHarness } from "../helpers/box-harness.ts";

let remote: Awaited<ReturnType<typeof makeRemote>>;
let box: BoxHarness;

beforeAll(async () => {
  remote = await makeRemote({
    owner: "acme",
    name: "tools",
    files: { ".ocweb/setup.sh": "echo installing deps\necho ready > .setup-done\n", "README.md": "tools\n" },
  });
  box = await startTestBox({ baseUrl: remote.baseUrl });
});
afterAll(async () => {
  await box?.dispose();
  await remote?.cleanup();
});

describe("POST /mgmt/repos/clone", () => {
  it("streams progress as SSE when asked, then the clone info; GET /mgmt/repos lists it", async () => {
    const res = await fetch(`${box.url}/mgmt/repos/clone`, {
      method: "POST",
      headers: { authorization: `Bearer ${TEST_TOKEN}`, "content-type": "application/json", accept: "text/event-stream" },
      body: JSON.stringify({ repo: "acme/tools" }),
    });
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const text = await res.text();
    const done = /event: done\ndata: (.*)\n/.exec(text);
    expect(done).not.toBeNull();
    expect(JSON.parse(done![1]!)).toMatchObject({ repo: "acme/tools", defaultBranch: "main" });
    const list = (await box.call("GET", "/mgmt/repos")).json as { repos: Array<{ repo: string; sizeBytes: number }> };
    expect(list.repos.find((r) => r.repo === "acme/tools")?.sizeBytes).toBeGreaterThan(0);
  });

  it("reports a missing repo as an SSE error event", async () => {
    const res = await fetch(`${box.url}/mgmt/repos/clone`, {
      method: "POST",
      headers: { authorization: `Bearer ${TEST_TOKEN}`, "content-type": "application/json", accept: "text/event-stream" },
      body: JSON.stringify({ repo: "acme/nothing-here" }),
    });
    expect(await res.text()).toMatch(/event: error\ndata: .*repo_not_found/);
  });
});

describe("per-repo setup", () => {
  it("runs .ocweb/setup.sh in a new worktree, keeps its output, then sends queued prompts", async () => {
    const chatId = newChatId();
    const chat = (await box.call("POST", "/mgmt/chats", { chatId, repo: "acme/tools" })).json as { worktree: string; setup: { state: string } };
    expect(["running", "ok"]).toContain(chat.setup.state);
    await box.call("POST", `/mgmt/chats/${chatId}/prompts`, { promptId: "after-setup", text: "say: hi" });
    const ready = await box.waitForChat(chatId, (c) => (c.setup as { state: string }).state === "ok" && c.status === "idle" && (c.queuedPrompts as string[]).length === 0);
    expect((ready.setup as { output: string }).output).toContain("installing deps");
    expect(readFileSync(path.join(chat.worktree, ".setup-done"), "utf8")).toBe("ready\n");
  });
});

describe("repos, disk, GC and processes", () => {
  const chatId = newChatId();
  let worktree = "";

  beforeAll(async () => {
    worktree = ((await box.call("POST", "/mgmt/chats", { chatId, repo: "acme/tools" })).json as { worktree: string }).worktree;
  });

  it("DELETE /mgmt/repos/:owner/:name is refused while a chat uses the clone", async () => {
    const res = await box.call("DELETE", "/mgmt/repos/acme/tools");
    expect(res.status).toBe(409);
    expect(existsSync(box.box.services.layout.repoCache("acme/tools"))).toBe(true);
  });

  it("GET /mgmt/disk reports the volume and each area", async () => {
    const disk = (await box.call("GET", "/mgmt/disk")).json as Record<string, number>;
    expect(disk.totalBytes).toBeGreaterThan(disk.freeBytes!);
    expect(disk.reposBytes).toBeGreaterThan(0);
    expect(disk.worktreesBytes).toBeGreaterThan(0);
    expect(disk.opencodeBytes).toBeGreaterThan(0);
  });

  it("GC never removes a busy chat's worktree, even archived, dry run or not", async () => {
    await box.call("POST", `/mgmt/chats/${chatId}/prompts`, { promptId: "gc-busy", text: "sleep: 4000\nsay: done" });
    await box.waitForChat(chatId, (c) => c.status === "busy");
    expect((await box.call("PATCH", `/mgmt/chats/${chatId}`, { archived: true })).status).toBe(200);
    for (const dryRun of [true, false]) {
      const gc = (await box.call("POST", "/mgmt/gc", { dryRun })).json as { removed: Array<{ path: string }> };
      expect(gc.removed.map((r) => r.path)).not.toContain(worktree);
      expect(existsSync(worktree)).toBe(true);
    }
    await box.waitForChat(chatId, (c) => c.status === "idle");
    const after = (await box.call("POST", "/mgmt/gc", { dryRun: true })).json as { removed: Array<{ path: string; reason: string }> };
    expect(after.removed).toContainEqual(expect.objectContaining({ path: worktree, reason: "chat archived" }));
  });

  it("GET /mgmt/processes never lists the box or opencode; killing an unlisted pid is a 404", async () => {
    const { processes } = (await box.call("GET", "/mgmt/processes")).json as { processes: Array<{ pid: number }> };
    const pids = processes.map((p) => p.pid);
    expect(pids).not.toContain(process.pid);
    expect(pids).not.toContain(box.box.supervisor.pid);
    const res = await box.call("POST", `/mgmt/processes/${box.box.supervisor.pid}/kill`);
    expect(res.status).toBe(404);
    expect(box.box.supervisor.up).toBe(true);
  });
});
