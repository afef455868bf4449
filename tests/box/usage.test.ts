import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_PRICE } from "../../box/demo-model/config.ts";
import type { DemoModel } from "../../box/demo-model/server.ts";
import { makeRemote } from "../helpers/git-fixture.ts";
import { newChatId, startTestBox, type BoxHarness } from "../helpers/box-harness.ts";
import { waitFor } from "../helpers/wait-for.ts";

type Usage = { cost: number; tokensIn: number; tokensOut: number };
type StatusEvent = { type: string; chatId: string; status?: string; usage?: Usage };

let remote: Awaited<ReturnType<typeof makeRemote>>;
let box: BoxHarness | undefined;
let receiver: Server;
let workerUrl = "";
const received: StatusEvent[] = [];

/** What the scripted model reported for the agent's requests in `worktree` (title requests carry no tools). */
function reported(demo: DemoModel | undefined, worktree: string) {
  let tokensIn = 0;
  let tokensOut = 0;
  demo?.requests.forEach((req, i) => {
    const inChat = req.messages.some((m) => m.role === "system" && JSON.stringify(m.content).includes(worktree));
    if (!inChat || !req.tools?.length) return;
    tokensIn += demo.usages[i]!.prompt_tokens;
    tokensOut += demo.usages[i]!.completion_tokens;
  });
  return { tokensIn, tokensOut };
}

/** Sends a prompt and returns the chat.status event that ends its run (the n-th idle event of the chat). */
async function run(chatId: string, promptId: string, text: string): Promise<StatusEvent> {
  const before = received.filter((e) => e.chatId === chatId && e.type === "chat.status" && e.status === "idle").length;
  const sent = await box!.call("POST", `/mgmt/chats/${chatId}/prompts`, { promptId, text });
  expect(sent.status, sent.text).toBe(202);
  return waitFor(`the run of ${promptId} to end`, async () => {
    const ends = received.filter((e) => e.chatId === chatId && e.type === "chat.status" && (e.status === "idle" || e.status === "error"));
    const end = ends[before];
    if (end?.status === "error") throw new Error(`run failed: ${JSON.stringify(end)}`);
    return end;
  }, 40_000, () => received.filter((e) => e.chatId === chatId));
}

function expectPriced(usage: Usage | undefined, tokens: { tokensIn: number; tokensOut: number }) {
  expect(usage).toMatchObject(tokens);
  expect(usage!.cost).toBeCloseTo((tokens.tokensIn * DEMO_PRICE.input + tokens.tokensOut * DEMO_PRICE.output) / 1e6, 12);
}

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      if (req.url === "/internal/box/events") received.push(JSON.parse(body) as StatusEvent);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
  workerUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  remote = await makeRemote({ owner: "acme", name: "usage" });
  box = await startTestBox({ baseUrl: remote.baseUrl, env: { WORKER_URL: workerUrl } });
});
afterAll(async () => {
  await box?.dispose();
  await remote?.cleanup();
  receiver?.close();
});

describe("usage on chat.status", () => {
  it("carries the chat's running totals: the scripted model's tokens at the configured price, across runs and a box restart", async () => {
    const chatId = newChatId();
    const created = await box!.call("POST", "/mgmt/chats", { chatId, repo: "acme/usage" });
    expect(created.status, created.text).toBe(201);
    const worktree = (created.json as { worktree: string }).worktree;

    const first = await run(chatId, "usage-1", "write a.txt: hello\nsay: wrote it");
    const one = reported(box!.box.demo, worktree);
    expect(one.tokensIn).toBeGreaterThan(0);
    expect(one.tokensOut).toBeGreaterThan(0);
    expectPriced(first.usage, one);

    const second = await run(chatId, "usage-2", "say: and again");
    const two = reported(box!.box.demo, worktree);
    expect(two.tokensIn).toBeGreaterThan(one.tokensIn);
    expectPriced(second.usage, two);

    // A new box (and a new opencode and scripted model) over the same data: the totals go on from there.
    const dataDir = box!.dataDir;
    await box!.dispose({ keepData: true });
    box = undefined;
    box = await startTestBox({ baseUrl: remote.baseUrl, dataDir, env: { WORKER_URL: workerUrl } });
    await box.waitForChat(chatId, (c) => c.status !== "busy");
    const third = await run(chatId, "usage-3", "say: after the restart");
    const three = reported(box.box.demo, worktree);
    expect(three.tokensIn).toBeGreaterThan(0);
    expectPriced(third.usage, { tokensIn: two.tokensIn + three.tokensIn, tokensOut: two.tokensOut + three.tokensOut });
  }, 180_000);
});
