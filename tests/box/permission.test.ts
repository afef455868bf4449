import { existsSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeRemote } from "../helpers/git-fixture.ts";
import { newChatId, startTestBox, TEST_TOKEN, type BoxHarness } from "../helpers/box-harness.ts";

let remote: Awaited<ReturnType<typeof makeRemote>>;
let box: BoxHarness;

beforeAll(async () => {
  remote = await makeRemote({ owner: "acme", name: "perm" });
  box = await startTestBox({ baseUrl: remote.baseUrl, env: { OPENCODE_PERMISSION: JSON.stringify({ bash: "ask" }) } });
});
afterAll(async () => {
  await box?.dispose();
  await remote?.cleanup();
});

/** Reads SSE frames from a streaming response until `match` returns a value. */
async function firstFrame<T>(res: Response, match: (data: unknown) => T | undefined, timeoutMs = 20_000): Promise<T> {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const timer = setTimeout(() => void reader.cancel(), timeoutMs);
  let buffer = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error("stream ended before the expected frame");
      buffer += value;
      const frames = buffer.split("\n\n");
      buffer = frames.pop()!;
      for (const frame of frames) {
        const data = frame.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trim()).join("\n");
        const found = data ? match(JSON.parse(data)) : undefined;
        if (found !== undefined) return found;
      }
    }
  } finally {
    clearTimeout(timer);
    void reader.cancel().catch(() => undefined);
  }
}

describe("a bash tool call under permission bash:ask", () => {
  it("asks through /oc/event, is answered through /oc/permission/:id/reply, then runs", async () => {
    const chatId = newChatId();
    const chat = (await box.call("POST", "/mgmt/chats", { chatId, repo: "acme/perm" })).json as { worktree: string };
    const dir = encodeURIComponent(chat.worktree);
    const events = await fetch(`${box.url}/oc/event?directory=${dir}`, { headers: { authorization: `Bearer ${TEST_TOKEN}` } });
    expect(events.status).toBe(200);
    expect(events.headers.get("content-type")).toContain("text/event-stream");

    const boxEvents = await fetch(`${box.url}/mgmt/events`, { headers: { authorization: `Bearer ${TEST_TOKEN}` } });
    const boxAsked = firstFrame(boxEvents, (d) => ((d as { type?: string }).type === "permission.asked" ? d : undefined));

    const asked = firstFrame(events, (d) => {
      const e = d as { type: string; properties: { id: string; permission: string } };
      return e.type === "permission.asked" ? e.properties : undefined;
    });
    await box.call("POST", `/mgmt/chats/${chatId}/prompts`, { promptId: "bash-1", text: "bash: echo ok > ran.txt" });
    const request = await asked;
    expect(request.permission).toBe("bash");
    expect(await boxAsked).toMatchObject({ type: "permission.asked", chatId });
    expect(existsSync(path.join(chat.worktree, "ran.txt"))).toBe(false);

    const reply = await box.call("POST", `/oc/permission/${request.id}/reply?directory=${dir}`, { reply: "once" });
    expect(reply.status).toBe(200);
    await box.waitForChat(chatId, (c) => c.status === "idle");
    expect(existsSync(path.join(chat.worktree, "ran.txt"))).toBe(true);
  });
});
