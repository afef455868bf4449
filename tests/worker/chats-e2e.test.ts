import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signBody } from "../../lib/signature.ts";
import { makeRemote } from "../helpers/git-fixture.ts";
import { startTestBox, TEST_TOKEN, type BoxHarness } from "../helpers/box-harness.ts";
import { deliveredPromptIds, runFinished, startWorkerWithBox } from "../helpers/worker-with-box.ts";
import type { TestWorker } from "../helpers/worker-harness.ts";
import { waitFor } from "../helpers/wait-for.ts";

type Chat = { id: string; status: string; sessionId?: string; directory?: string; repo: string; branch: string };
type Message = { info: { role: string }; parts: Array<{ type: string; text?: string; metadata?: { ocwebPromptId?: string } }> };

let remote: Awaited<ReturnType<typeof makeRemote>>;
let box: BoxHarness;
let worker: TestWorker;
let boxPort = 0;

const getChat = async (id: string) => (await worker.json<{ chat: Chat; box: string }>(`/api/chats/${id}`)).body;
const chatOnBox = (id: string) =>
  waitFor("the chat on the box", async () => {
    const c = (await getChat(id)).chat;
    return c.sessionId && c.status === "idle" ? c : undefined;
  });

beforeAll(async () => ({ remote, box, worker, boxPort } = await startWorkerWithBox()));
afterAll(async () => {
  await worker?.dispose();
  await box?.dispose();
  await remote?.cleanup();
});

describe("POST /api/chats with a first prompt", () => {
  let chat: Chat;

  it("answers at once with a queued chat, then the box runs it and the webhooks mark it idle", async () => {
    const res = await worker.json<{ chat: Chat }>("/api/chats", { method: "POST", body: { repo: "acme/app", prompt: { text: "write hello.txt: hi\nsay: all done" } } });
    expect(res.status).toBe(201);
    expect(res.body.chat).toMatchObject({ repo: "acme/app", status: "queued" });
    expect(res.body.chat.branch).toBe(`ocweb/${res.body.chat.id}`);
    chat = await runFinished<Chat>(worker, res.body.chat.id, 1);
  });

  it("the reply is readable through /api/box/oc for the owner, and the diff through /api/chats/:id/diff", async () => {
    const res = await worker.json<Message[]>(`/api/box/oc/session/${chat.sessionId}/message`);
    expect(res.status).toBe(200);
    expect(res.body.flatMap((m) => m.parts).some((p) => p.type === "text" && p.text?.includes("all done"))).toBe(true);
    const diff = await worker.json<{ files: Array<{ path: string }> }>(`/api/chats/${chat.id}/diff`);
    expect(diff.body.files.map((f) => f.path)).toEqual(["hello.txt"]);
  });

  it("SSE passes through unbuffered: the first frame arrives while the stream stays open", async () => {
    const controller = new AbortController();
    const started = Date.now();
    const res = await worker.fetch(`/api/box/oc/event?directory=${encodeURIComponent(chat.directory!)}`, { signal: controller.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    const { value } = await reader.read();
    expect(value).toContain("server.connected");
    expect(Date.now() - started).toBeLessThan(5_000);
    controller.abort();
  });

  it("another user sees none of it", async () => {
    const alice = worker.jar.get("ocweb_session")!;
    worker.jar.clear();
    await worker.signInDev("mallory");
    expect((await worker.json(`/api/chats/${chat.id}`)).status).toBe(404);
    expect((await worker.json(`/api/chats/${chat.id}/prompts`, { method: "POST", body: { text: "hi" } })).status).toBe(404);
    expect((await worker.json(`/api/box/oc/session/${chat.sessionId}/message`)).status).toBe(404);
    expect((await worker.json(`/api/box/oc/session?directory=${encodeURIComponent(chat.directory!)}`)).status).toBe(403);
    expect((await worker.json<{ chats: Chat[] }>("/api/chats")).body.chats).toEqual([]);
    worker.jar.clear();
    worker.jar.set("ocweb_session", alice);
  });
});

describe("a retried new-chat send", () => {
  it("with the same promptId answers the same chat and creates nothing twice", async () => {
    const body = { repo: "acme/app", prompt: { promptId: "retry-first-1", text: "say: once" } };
    const first = await worker.json<{ chat: Chat }>("/api/chats", { method: "POST", body });
    const again = await worker.json<{ chat: Chat }>("/api/chats", { method: "POST", body });
    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect(again.body.chat.id).toBe(first.body.chat.id);
    const rows = await worker.sqlClient.execute("SELECT count(*) AS n FROM chats WHERE title = 'say: once'");
    expect(Number(rows.rows[0]!.n)).toBe(1);
  });
});

describe("the prompt outbox", () => {
  it("queues while the box is down, lists from Turso, and delivers exactly once when the box says hello", async () => {
    const created = await worker.json<{ chat: Chat }>("/api/chats", { method: "POST", body: { repo: "acme/app" } });
    const chat = await chatOnBox(created.body.chat.id);

    await box.dispose({ keepData: true });
    const body = { promptId: "outbox-1", text: "say: delivered later" };
    const sent = await worker.json<{ prompt: { id: string; state: string } }>(`/api/chats/${chat.id}/prompts`, { method: "POST", body });
    expect(sent.status).toBe(202);
    expect(sent.body.prompt).toMatchObject({ id: "outbox-1", state: "queued" });
    const again = await worker.json<{ prompt: { id: string; state: string } }>(`/api/chats/${chat.id}/prompts`, { method: "POST", body });
    expect(again.body.prompt).toMatchObject({ id: "outbox-1", state: "queued" });
    const list = await worker.json<{ chats: Chat[]; box: string }>("/api/chats");
    expect(list.body.box).toBe("unreachable");
    expect(list.body.chats.map((c) => c.id)).toContain(chat.id);

    box = await startTestBox({ baseUrl: remote.baseUrl, dataDir: box.dataDir, port: boxPort, env: { WORKER_URL: worker.url } });
    await waitFor("delivered after hello, then idle", async () => {
      const prompts = (await worker.json<{ prompts: Array<{ id: string; state: string }> }>(`/api/chats/${chat.id}/prompts`)).body.prompts;
      const sent = prompts.find((p) => p.id === "outbox-1")?.state === "sent";
      return sent && (await getChat(chat.id)).chat.status === "idle" ? true : undefined;
    });
    await worker.scheduled(); // a cron run after delivery must not deliver again
    expect((await deliveredPromptIds(worker, chat.sessionId!)).filter((id) => id === "outbox-1")).toHaveLength(1);
  });

  it("the cron trigger delivers what no request and no hello did", async () => {
    const created = await worker.json<{ chat: Chat }>("/api/chats", { method: "POST", body: { repo: "acme/app" } });
    const chat = await chatOnBox(created.body.chat.id);
    await worker.sqlClient.execute({
      sql: "INSERT INTO prompts (id, chat_id, user_id, text, state, attempts, created_at) SELECT 'cron-1', id, user_id, 'say: from cron', 'queued', 0, ? FROM chats WHERE id = ?",
      args: [Date.now(), chat.id],
    });
    await worker.scheduled();
    await waitFor("sent by cron", async () => ((await deliveredPromptIds(worker, chat.sessionId!)).includes("cron-1") ? true : undefined));
  });
});

describe("webhooks", () => {
  it("refuse an unsigned, a forged, a stale and a tampered event with 401", async () => {
    const body = JSON.stringify({ type: "chat.status", chatId: "01JABCDEFGHJKMNPQRSTVWXYZ0", status: "idle" });
    const now = Math.floor(Date.now() / 1000);
    const cases: Array<Record<string, string>> = [
      {},
      { "x-ocweb-signature": await signBody("wrong-key-wrong-key-wrong-key-wrong-key", body) },
      { "x-ocweb-signature": await signBody(TEST_TOKEN, body, now - 301) },
      { "x-ocweb-signature": (await signBody(TEST_TOKEN, body)).replace(/.$/, (d) => (d === "0" ? "1" : "0")) },
    ];
    for (const headers of cases) {
      const res = await fetch(`${worker.url}/internal/box/events`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
      expect(res.status).toBe(401);
    }
    const good = await fetch(`${worker.url}/internal/box/events`, { method: "POST", headers: { "x-ocweb-signature": await signBody(TEST_TOKEN, body) }, body });
    expect(good.status).toBe(204);
    const garbled = "{not json";
    const bad = await fetch(`${worker.url}/internal/box/events`, { method: "POST", headers: { "x-ocweb-signature": await signBody(TEST_TOKEN, garbled) }, body: garbled });
    expect(bad.status).toBe(400);
  });
});
