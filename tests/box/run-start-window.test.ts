import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { RunStarts } from "../../box/chats/run-starts.ts";
import { makeRemote } from "../helpers/git-fixture.ts";
import { newChatId, startTestBox, type BoxHarness } from "../helpers/box-harness.ts";

describe("RunStarts", () => {
  it("holds a send as pending until started, or until the wait runs out", () => {
    vi.useFakeTimers();
    const runs = new RunStarts(60_000);
    runs.sent("A");
    expect(runs.pending("A")).toBe(true);
    runs.started("A");
    expect(runs.pending("A")).toBe(false);
    runs.sent("B");
    vi.advanceTimersByTime(59_000);
    expect(runs.pending("B")).toBe(true);
    vi.advanceTimersByTime(2_000);
    expect(runs.pending("B")).toBe(false);
    vi.useRealTimers();
  });
});

describe("a resync right after a send", () => {
  let remote: Awaited<ReturnType<typeof makeRemote>>;
  let box: BoxHarness;
  beforeAll(async () => {
    remote = await makeRemote({ owner: "acme", name: "window" });
    box = await startTestBox({ baseUrl: remote.baseUrl });
  });
  afterAll(async () => {
    await box?.dispose();
    await remote?.cleanup();
  });

  it("does not end a run opencode has not marked busy yet", async () => {
    for (let i = 0; i < 3; i++) {
      const chatId = newChatId();
      const made = await box.call("POST", "/mgmt/chats", { chatId, repo: "acme/window" });
      expect(made.status, `${made.text}\n${box.lines.join("\n")}`).toBe(201);
      await box.call("POST", `/mgmt/chats/${chatId}/prompts`, { promptId: `w-${chatId}`, text: "sleep: 1500\nsay: finished" });
      await box.box.tracker.resync(); // lands in the window where opencode's status still reads idle
      expect(((await box.call("GET", `/mgmt/chats/${chatId}`)).json as { status: string }).status).toBe("busy");
      const done = await box.waitForChat(chatId, (c) => c.status === "idle");
      expect(done.status).toBe("idle");
      const { sessionId } = done as { sessionId: string };
      const messages = (await box.call("GET", `/oc/session/${sessionId}/message`)).json as Array<{ parts: Array<{ type: string; text?: string }> }>;
      expect(messages.flatMap((m) => m.parts).some((p) => p.type === "text" && p.text?.includes("finished"))).toBe(true);
    }
  });
});
