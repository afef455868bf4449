import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeRemote } from "../helpers/git-fixture.ts";
import { newChatId, startTestBox, type BoxHarness } from "../helpers/box-harness.ts";

let remote: Awaited<ReturnType<typeof makeRemote>>;
let box: BoxHarness;
const chatId = newChatId();
let sessionId = "";

type Message = { info: { role: string }; parts: Array<{ type: string; text?: string; metadata?: { ocwebPromptId?: string } }> };

async function userPromptIds(): Promise<string[]> {
  const res = await box.call("GET", `/oc/session/${sessionId}/message`);
  expect(res.status).toBe(200);
  return (res.json as Message[])
    .filter((m) => m.info.role === "user")
    .flatMap((m) => m.parts.map((p) => p.metadata?.ocwebPromptId))
    .filter((id): id is string => Boolean(id));
}

beforeAll(async () => {
  remote = await makeRemote({ owner: "acme", name: "ledger" });
  box = await startTestBox({ baseUrl: remote.baseUrl });
  const res = await box.call("POST", "/mgmt/chats", { chatId, repo: "acme/ledger" });
  sessionId = (res.json as { sessionId: string }).sessionId;
});
afterAll(async () => {
  await box?.dispose();
  await remote?.cleanup();
});

describe("POST /mgmt/chats/:id/prompts", () => {
  it("the same promptId three times reaches opencode once", async () => {
    const states = [];
    for (let i = 0; i < 3; i++) {
      const res = await box.call("POST", `/mgmt/chats/${chatId}/prompts`, { promptId: "same-1", text: "say: once" });
      expect(res.status).toBe(202);
      states.push((res.json as { state: string }).state);
    }
    expect(states).toEqual(["sent", "duplicate", "duplicate"]);
    await box.waitForChat(chatId, (c) => c.status === "idle");
    expect(await userPromptIds()).toEqual(["same-1"]);
  });

  it("two prompts sent while busy are queued and run in order", async () => {
    const a = await box.call("POST", `/mgmt/chats/${chatId}/prompts`, { promptId: "busy-a", text: "sleep: 2000\nsay: first" });
    const b = await box.call("POST", `/mgmt/chats/${chatId}/prompts`, { promptId: "busy-b", text: "say: second" });
    const c = await box.call("POST", `/mgmt/chats/${chatId}/prompts`, { promptId: "busy-c", text: "say: third" });
    expect([a, b, c].map((r) => (r.json as { state: string }).state)).toEqual(["sent", "queued", "queued"]);
    const busy = (await box.call("GET", `/mgmt/chats/${chatId}`)).json as { status: string; queuedPrompts: string[] };
    expect(busy.status).toBe("busy");
    expect(busy.queuedPrompts).toEqual(["busy-b", "busy-c"]);

    await box.waitForChat(chatId, (chat) => chat.status === "idle" && (chat.queuedPrompts as string[]).length === 0);
    expect(await userPromptIds()).toEqual(["same-1", "busy-a", "busy-b", "busy-c"]);
  });

  it("after a box restart the ledger still knows every promptId", async () => {
    await box.dispose({ keepData: true });
    box = await startTestBox({ baseUrl: remote.baseUrl, dataDir: box.dataDir });
    const again = await box.call("POST", `/mgmt/chats/${chatId}/prompts`, { promptId: "busy-a", text: "say: first" });
    expect(again.json).toEqual({ promptId: "busy-a", state: "duplicate" });
    const fresh = await box.call("POST", `/mgmt/chats/${chatId}/prompts`, { promptId: "after-restart", text: "say: still here" });
    expect((fresh.json as { state: string }).state).toBe("sent");
    await box.waitForChat(chatId, (chat) => chat.status === "idle");
    expect(await userPromptIds()).toEqual(["same-1", "busy-a", "busy-b", "busy-c", "after-restart"]);
  });

  it("rejects bad input with a 400 that says why", async () => {
    const cases = [
      { promptId: "ok-1", text: "" },
      { promptId: "../../x", text: "hi" },
      { promptId: "ok-2", text: "hi", model: "--upload-pack=evil" },
      { promptId: "ok-3", text: "hi", files: [{ mime: "image/png", url: "file:///etc/passwd" }] },
    ];
    for (const body of cases) {
      const res = await box.call("POST", `/mgmt/chats/${chatId}/prompts`, body);
      expect(res.status).toBe(400);
      expect((res.json as { error: { message: string } }).error.message).toMatch(/invalid json/);
    }
    const missing = await box.call("POST", `/mgmt/chats/${newChatId()}/prompts`, { promptId: "x", text: "hi" });
    expect(missing.status).toBe(404);
  });
});
