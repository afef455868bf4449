import { createHmac } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeRemote } from "../helpers/git-fixture.ts";
import { newChatId, startTestBox, TEST_TOKEN, type BoxHarness } from "../helpers/box-harness.ts";

type Received = { path: string; body: Record<string, unknown>; validSignature: boolean };

let remote: Awaited<ReturnType<typeof makeRemote>>;
let box: BoxHarness;
let worker: Server;
const received: Received[] = [];

/** What the worker does with x-ocweb-signature (ARCHITECTURE.md): HMAC over "t.body", skew ≤ 300 s. */
function verify(header: string | undefined, body: string): boolean {
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header ?? "");
  if (!m) return false;
  if (Math.abs(Date.now() / 1000 - Number(m[1])) > 300) return false;
  return createHmac("sha256", TEST_TOKEN).update(`${m[1]}.${body}`).digest("hex") === m[2];
}

beforeAll(async () => {
  worker = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      received.push({ path: req.url!, body: JSON.parse(body), validSignature: verify(req.headers["x-ocweb-signature"] as string, body) });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => worker.listen(0, "127.0.0.1", r));
  remote = await makeRemote({ owner: "acme", name: "hooks" });
  box = await startTestBox({ baseUrl: remote.baseUrl, env: { WORKER_URL: `http://127.0.0.1:${(worker.address() as AddressInfo).port}` } });
});
afterAll(async () => {
  await box?.dispose();
  await remote?.cleanup();
  worker?.close();
});

describe("box → worker webhooks", () => {
  it("posts a signed hello at boot and signed chat events in order", async () => {
    const chatId = newChatId();
    await box.call("POST", "/mgmt/chats", { chatId, repo: "acme/hooks" });
    await box.call("POST", `/mgmt/chats/${chatId}/prompts`, { promptId: "hook-1", text: "write a.txt: a" });
    await box.waitForChat(chatId, (c) => c.status === "idle");
    const deadline = Date.now() + 10_000;
    const mine = () => received.filter((r) => r.body.chatId === chatId).map((r) => r.body.type);
    // The run's last two posts (checkpoint, then the idle status) may still be on their way when the box reads idle.
    const statusAfterCheckpoint = () => mine().slice(mine().indexOf("chat.checkpoint") + 1).includes("chat.status");
    while (!(mine().includes("chat.checkpoint") && statusAfterCheckpoint()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));

    expect(received.every((r) => r.validSignature)).toBe(true);
    expect(received.find((r) => r.path === "/internal/box/hello")?.body).toMatchObject({ opencode: { version: "1.18.33" } });
    expect(received.filter((r) => r.path === "/internal/box/events").length).toBeGreaterThan(0);
    const types = mine();
    expect(types.indexOf("prompt.sent")).toBeGreaterThanOrEqual(0);
    expect(types.indexOf("chat.checkpoint")).toBeGreaterThan(types.indexOf("prompt.sent"));
    expect(types.at(-1)).toBe("chat.status");
    expect(received.filter((r) => r.body.chatId === chatId).at(-1)?.body).toMatchObject({ status: "idle" });
  });
});
