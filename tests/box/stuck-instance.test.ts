import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeRemote, type Remote } from "../helpers/git-fixture.ts";
import { newChatId, startTestBox, type BoxHarness } from "../helpers/box-harness.ts";

let remote: Remote;
let box: BoxHarness;
const chatId = newChatId();
let chat: { worktree: string; sessionId: string };
const messages = async () => {
  const res = await box.call("GET", `/oc/session/${chat.sessionId}/message?directory=${encodeURIComponent(chat.worktree)}`);
  expect(res.status).toBe(200);
  return res.json as Array<{ parts: Array<{ text?: string }> }>;
};

beforeAll(async () => {
  remote = await makeRemote({ owner: "acme", name: "app" });
  box = await startTestBox({ baseUrl: remote.baseUrl });
  chat = (await box.call("POST", "/mgmt/chats", { chatId, repo: "acme/app" })).json as typeof chat;
  await box.call("POST", `/mgmt/chats/${chatId}/prompts`, { promptId: "p1", text: "say: before the reset" });
  await box.waitForChat(chatId, (c) => c.status === "idle" && (c.queuedPrompts as string[]).length === 0);
}, 120_000);
afterAll(async () => {
  await box?.dispose();
  await remote?.cleanup();
});

describe("resetting opencode's instance for a chat's worktree (reads there kept being interrupted)", () => {
  it("disposes an idle chat's instance; its transcript stays and its next prompt runs", async () => {
    expect(await box.box.services.chats.resetStuckInstance(chat.worktree)).toBe(true);
    expect(box.lines.some((l) => l.includes(`chat ${chatId}: opencode kept interrupting reads`))).toBe(true);
    expect(JSON.stringify(await messages())).toContain("before the reset");
    await box.call("POST", `/mgmt/chats/${chatId}/prompts`, { promptId: "p2", text: "say: after the reset" });
    await box.waitForChat(chatId, (c) => c.status === "idle" && (c.queuedPrompts as string[]).length === 0);
    expect(JSON.stringify(await messages())).toContain("after the reset");
  }, 60_000);

  it("disposes it once for reads stuck there at the same time", async () => {
    const logged = () => box.lines.filter((l) => l.includes(`chat ${chatId}: opencode kept interrupting reads`)).length;
    const before = logged();
    const resets = await Promise.all([1, 2, 3].map(() => box.box.services.chats.resetStuckInstance(chat.worktree)));
    expect(resets).toEqual([true, true, true]);
    expect(logged() - before).toBe(1);
    expect(JSON.stringify(await messages())).toContain("after the reset");
  });

  it("leaves a busy chat's instance alone: its run finishes", async () => {
    await box.call("POST", `/mgmt/chats/${chatId}/prompts`, { promptId: "p3", text: "sleep: 2000\nsay: run kept" });
    await box.waitForChat(chatId, (c) => c.status === "busy");
    expect(await box.box.services.chats.resetStuckInstance(chat.worktree)).toBe(false);
    await box.waitForChat(chatId, (c) => c.status === "idle" && (c.queuedPrompts as string[]).length === 0);
    expect(JSON.stringify(await messages())).toContain("run kept");
  }, 60_000);

  it("does nothing for a directory that is no chat's worktree", async () => {
    expect(await box.box.services.chats.resetStuckInstance(`${chat.worktree}-nope`)).toBe(false);
  });
});
