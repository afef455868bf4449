import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";
import { makeRemote } from "../helpers/git-fixture.ts";
import { newChatId, startTestBox, type BoxHarness } from "../helpers/box-harness.ts";

let remote: Awaited<ReturnType<typeof makeRemote>>;
let box: BoxHarness;

beforeAll(async () => {
  remote = await makeRemote({ owner: "acme", name: "crashy" });
  box = await startTestBox({ baseUrl: remote.baseUrl });
});
afterAll(async () => {
  await box?.dispose();
  await remote?.cleanup();
});

describe("opencode killed mid-run", () => {
  it("comes back, the chat is interrupted, the next prompt works", async () => {
    onTestFailed(() => console.log(`box log, last 80 lines:\n${box.lines.slice(-80).join("\n")}`));
    const chatId = newChatId();
    expect((await box.call("POST", "/mgmt/chats", { chatId, repo: "acme/crashy" })).status).toBe(201);
    await box.call("POST", `/mgmt/chats/${chatId}/prompts`, { promptId: "long-1", text: "sleep: 3000\nsay: long one done" });
    await box.waitForChat(chatId, (c) => c.status === "busy");

    const oldPid = box.box.supervisor.pid!;
    process.kill(oldPid, "SIGKILL");
    await box.waitForChat(chatId, (c) => c.status === "interrupted");

    const deadline = Date.now() + 30_000;
    while (!(box.box.supervisor.up && box.box.supervisor.pid !== oldPid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    const health = await box.call("GET", "/healthz");
    expect(health.json).toMatchObject({ ok: true, opencode: { up: true, version: "1.18.33" } });

    const next = await box.call("POST", `/mgmt/chats/${chatId}/prompts`, { promptId: "after-crash", text: "write after.txt: back\nsay: recovered" });
    // opencode may have lost long-1 with the process (it answers before it stores): then it runs again first.
    expect(["sent", "queued"]).toContain((next.json as { state: string }).state);
    const chat = await box.waitForChat(chatId, (c) => c.status === "idle" && (c.queuedPrompts as string[]).length === 0);
    expect(chat.error).toBeUndefined();
    const diff = (await box.call("GET", `/mgmt/chats/${chatId}/diff`)).json as { files: Array<{ path: string }> };
    expect(diff.files.map((f) => f.path)).toContain("after.txt");
    const { worktree, sessionId } = chat as { worktree: string; sessionId: string };
    const messages = (await box.call("GET", `/oc/session/${sessionId}/message?directory=${encodeURIComponent(worktree)}`)).json as Array<{ info: { role: string }; parts: Array<{ metadata?: { ocwebPromptId?: string } }> }>;
    const promptIds = messages.filter((m) => m.info.role === "user").flatMap((m) => m.parts.map((p) => p.metadata?.ocwebPromptId).filter(Boolean));
    expect(promptIds).toEqual(["long-1", "after-crash"]);
  });

  it("a prompt opencode lost four times is sent once more; after a fifth loss it fails with a reason", async () => {
    const chatId = newChatId();
    expect((await box.call("POST", "/mgmt/chats", { chatId, repo: "acme/crashy" })).status).toBe(201);
    const { ledger, pump } = box.box.services;
    // As the ledger reads after n deliveries opencode never stored: `sending`, n attempts.
    const lost = async (promptId: string, times: number) => {
      await ledger.record(promptId, chatId, { text: `write ${promptId}.txt: ran\nsay: ${promptId} ran` });
      for (let i = 0; i < times; i++) await ledger.startSend(promptId);
    };
    await lost("lost-4", 4);
    await pump.pump(chatId);
    expect((await ledger.get("lost-4"))?.state).toBe("sent");
    await box.waitForChat(chatId, (c) => c.status === "idle");

    await lost("lost-5", 5);
    await pump.pump(chatId);
    const given = await ledger.get("lost-5");
    expect(given?.state).toBe("failed");
    expect(given?.error).toBe("opencode stopped 5 times while taking this prompt; send it again to retry");
    const diff = (await box.call("GET", `/mgmt/chats/${chatId}/diff`)).json as { files: Array<{ path: string }> };
    expect(diff.files.map((f) => f.path)).toEqual(["lost-4.txt"]);
  });
});
