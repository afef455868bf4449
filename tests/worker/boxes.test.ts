import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signBody } from "../../lib/signature.ts";
import { makeRemote } from "../helpers/git-fixture.ts";
import { startTestBox, TEST_TOKEN, type BoxHarness } from "../helpers/box-harness.ts";
import { freePort } from "../helpers/scratch-opencode.ts";
import { startTestWorker, type TestWorker } from "../helpers/worker-harness.ts";
import { waitFor } from "../helpers/wait-for.ts";

type Chat = { id: string; boxId: string; status: string; sessionId?: string };
type Box = { id: string; name: string; url?: string; lastSeenAt?: string; retired: boolean; health: string };
type ApiError = { error: { code: string; message: string } };
type Message = { info: { role: string }; parts: Array<{ type: string; text?: string }> };

let remote: Awaited<ReturnType<typeof makeRemote>>;
let worker: TestWorker;
let envBox: BoxHarness;
const boxes: Record<"a" | "b", { id: string; key: string; port: number; box?: BoxHarness }> = {} as never;
const chatOf: Record<"a" | "b" | "env", Chat> = {} as never;

const listBoxes = async () => (await worker.json<{ boxes: Box[]; defaultBox?: string }>("/api/boxes")).body;
const healthOf = async (id: string) => (await listBoxes()).boxes.find((b) => b.id === id)?.health;
const startBox = (which: "a" | "b", env: Record<string, string> = {}) =>
  startTestBox({ baseUrl: remote.baseUrl, port: boxes[which].port, dataDir: boxes[which].box?.dataDir, env: { WORKER_URL: worker.url, ...env } });
const runChat = async (boxId: string | undefined, text: string) => {
  const made = await worker.json<{ chat: Chat }>("/api/chats", { method: "POST", body: { repo: "acme/app", ...(boxId ? { boxId } : {}), prompt: { text } } });
  expect(made.status).toBe(201);
  return waitFor(`chat on ${boxId ?? "the default box"} to run`, async () => {
    const prompts = (await worker.json<{ prompts: Array<{ state: string }> }>(`/api/chats/${made.body.chat.id}/prompts`)).body.prompts;
    const chat = (await worker.json<{ chat: Chat }>(`/api/chats/${made.body.chat.id}`)).body.chat;
    return prompts[0]?.state === "sent" && chat.status === "idle" ? chat : undefined;
  }, 60_000);
};
/** A webhook as a box sends it: signed with `key`, naming itself in x-ocweb-box when `from` is given. */
const webhook = async (path: string, body: object, key: string, from?: string) => {
  const text = JSON.stringify(body);
  const headers: Record<string, string> = { "content-type": "application/json", "x-ocweb-signature": await signBody(key, text) };
  if (from) headers["x-ocweb-box"] = from;
  return (await fetch(`${worker.url}/internal/box${path}`, { method: "POST", headers, body: text })).status;
};
const tokenOf = (which: "a" | "b") => boxes[which].box!.box.services.token;

beforeAll(async () => {
  remote = await makeRemote({ owner: "acme", name: "app", files: { "README.md": "# app\n" } });
  const workerPort = await freePort();
  envBox = await startTestBox({ baseUrl: remote.baseUrl, env: { WORKER_URL: `http://127.0.0.1:${workerPort}` } });
  worker = await startTestWorker({ port: workerPort, boxUrl: envBox.url, boxToken: TEST_TOKEN, bindings: { DEV_LOGIN: "1" } });
  await worker.signInDev("alice");
}, 120_000);
afterAll(async () => {
  await worker?.dispose();
  await Promise.all([envBox?.dispose(), boxes.a?.box?.dispose(), boxes.b?.box?.dispose()]);
  await remote?.cleanup();
});

describe("POST /api/boxes, then a box registers with its key", () => {
  it("answers a one-time key once and keeps only its SHA-256", async () => {
    for (const which of ["a", "b"] as const) {
      const res = await worker.json<{ box: { id: string; name: string }; registrationKey: string }>("/api/boxes", { method: "POST", body: { name: `box ${which}` } });
      expect(res.status).toBe(201);
      expect(res.body.registrationKey).toMatch(/^ocwebreg_[A-Za-z0-9_-]{43}$/);
      boxes[which] = { id: res.body.box.id, key: res.body.registrationKey, port: await freePort() };
      const row = (await worker.sqlClient.execute({ sql: "SELECT * FROM boxes WHERE id = ?", args: [res.body.box.id] })).rows[0]!;
      expect(row.registration_key_hash).toBe(createHash("sha256").update(res.body.registrationKey).digest("hex"));
      expect(JSON.stringify(row)).not.toContain(res.body.registrationKey);
    }
    expect((await listBoxes()).boxes.map((b) => [b.name, b.health])).toEqual([["default box", "ok"], ["box a", "pending"], ["box b", "pending"]]);
    expect((await worker.json("/api/boxes", { method: "POST", body: { name: " " } })).status).toBe(400);
  });

  it("two boxes started with their keys register, get their own secrets, and show as healthy", async () => {
    for (const which of ["a", "b"] as const) {
      const { key, port } = boxes[which];
      boxes[which].box = await startBox(which, { OCWEB_REGISTRATION_KEY: key, BOX_PUBLIC_URL: `http://127.0.0.1:${port}` });
      expect(tokenOf(which)).not.toBe(TEST_TOKEN);
    }
    expect(tokenOf("a")).not.toBe(tokenOf("b"));
    const row = (await worker.sqlClient.execute({ sql: "SELECT token_enc FROM boxes WHERE id = ?", args: [boxes.a.id] })).rows[0]!;
    expect(String(row.token_enc)).toMatch(/^v1\./);
    expect(String(row.token_enc)).not.toContain(tokenOf("a"));
    const list = await listBoxes();
    expect(list.defaultBox).toBe("env");
    for (const which of ["a", "b"] as const) {
      expect(list.boxes.find((b) => b.id === boxes[which].id)).toMatchObject({ url: `http://127.0.0.1:${boxes[which].port}`, health: "ok", retired: false });
    }
    expect((await boxes.a.box!.call("GET", "/mgmt/chats", undefined, { authorization: `Bearer ${TEST_TOKEN}` })).status).toBe(401);
  });

  it("a used, an unknown or a malformed key cannot register, nor a non-loopback http url", async () => {
    const register = (body: object) => worker.json<ApiError>("/internal/boxes/register", { method: "POST", body });
    const used = await register({ key: boxes.a.key, url: "https://elsewhere.example" });
    expect(used.status).toBe(409);
    expect(used.body.error.message).toMatch(/already used/);
    expect((await register({ key: `ocwebreg_${"x".repeat(43)}`, url: "https://box.example" })).status).toBe(401);
    expect((await register({ key: boxes.b.key, url: "http://box.example" })).status).toBe(400);
    expect((await register({ url: "https://box.example" })).status).toBe(400);
  });
});

describe("chats on two boxes", () => {
  it("each runs a chat to completion on its own box, and the env box still runs chats", async () => {
    [chatOf.a, chatOf.b, chatOf.env] = await Promise.all([
      runChat(boxes.a.id, "write a.txt: from a\nsay: done on a"),
      runChat(boxes.b.id, "write b.txt: from b\nsay: done on b"),
      runChat(undefined, "write e.txt: from env\nsay: done on env"),
    ]);
    expect([chatOf.a.boxId, chatOf.b.boxId, chatOf.env.boxId]).toEqual([boxes.a.id, boxes.b.id, "env"]);
  });

  it("each chat's calls went to its own box: the others have no such chat", async () => {
    const harness = { a: boxes.a.box!, b: boxes.b.box!, env: envBox };
    for (const [which, chat] of Object.entries(chatOf) as Array<["a" | "b" | "env", Chat]>) {
      for (const [other, box] of Object.entries(harness)) {
        expect((await box.call("GET", `/mgmt/chats/${chat.id}`)).status, `chat on ${which}, asked ${other}`).toBe(which === other ? 200 : 404);
      }
      const diff = await worker.json<{ files: Array<{ path: string }> }>(`/api/chats/${chat.id}/diff`);
      expect(diff.body.files.map((f) => f.path)).toEqual([`${which === "env" ? "e" : which}.txt`]);
      const messages = await worker.json<Message[]>(`/api/box/oc/session/${chat.sessionId}/message`);
      expect(messages.body.flatMap((m) => m.parts).some((p) => p.text?.includes(`done on ${which}`))).toBe(true);
    }
  });

  it("a fork stays on its parent's box", async () => {
    const cps = await waitFor("a checkpoint", async () => {
      const list = (await worker.json<{ checkpoints: Array<{ sha: string }> }>(`/api/chats/${chatOf.b.id}/checkpoints`)).body.checkpoints;
      return list.length > 0 ? list : undefined;
    });
    const fork = await worker.json<{ chat: Chat }>(`/api/chats/${chatOf.b.id}/fork`, { method: "POST", body: { sha: cps[0]!.sha } });
    expect(fork.body.chat.boxId).toBe(boxes.b.id);
    await boxes.b.box!.waitForChat(fork.body.chat.id, (c) => c.status === "idle");
  });

  it("a new chat on an unknown, a pending or another user's box is refused", async () => {
    const pending = await worker.json<{ box: { id: string } }>("/api/boxes", { method: "POST", body: { name: "never started" } });
    for (const boxId of ["01ARZ3NDEKTSV4RRFFQ69G5FAV", pending.body.box.id, "not-a-box"]) {
      expect((await worker.json("/api/chats", { method: "POST", body: { repo: "acme/app", boxId } })).status, boxId).toBe(400);
    }
    const alice = worker.jar.get("ocweb_session")!;
    worker.jar.clear();
    await worker.signInDev("mallory");
    expect((await listBoxes()).boxes.map((b) => b.id)).toEqual(["env"]);
    expect((await worker.json("/api/chats", { method: "POST", body: { repo: "acme/app", boxId: boxes.a.id } })).status).toBe(400);
    expect((await worker.json(`/api/boxes/${boxes.a.id}/retire`, { method: "POST" })).status).toBe(404);
    expect((await worker.json(`/api/box/disk?box=${boxes.a.id}`)).status).toBe(404);
    worker.jar.clear();
    worker.jar.set("ocweb_session", alice);
  });
});

describe("webhooks from registered boxes", () => {
  const status = (chat: Chat) => ({ type: "chat.status", chatId: chat.id, status: "idle", at: Date.now() });

  it("are checked against the named box's own token", async () => {
    expect(await webhook("/events", status(chatOf.a), tokenOf("a"), boxes.a.id)).toBe(204);
    expect(await webhook("/events", status(chatOf.a), tokenOf("b"), boxes.a.id)).toBe(401);
    expect(await webhook("/events", status(chatOf.a), tokenOf("a"))).toBe(401);
    expect(await webhook("/events", status(chatOf.a), TEST_TOKEN, boxes.a.id)).toBe(401);
    expect(await webhook("/hello", {}, tokenOf("b"), boxes.b.id)).toBe(204);
  });

  it("a signed hello carrying a new url moves the box (a new tunnel after a restart)", async () => {
    const urlOf = async () => (await listBoxes()).boxes.find((b) => b.id === boxes.b.id)?.url;
    expect(await webhook("/hello", { box: { url: "https://127.0.0.1:1/" } }, tokenOf("b"), boxes.b.id)).toBe(204);
    expect(await urlOf()).toBe("https://127.0.0.1:1");
    expect(await webhook("/hello", { box: { url: `http://127.0.0.1:${boxes.b.port}` } }, tokenOf("b"), boxes.b.id)).toBe(204);
    expect(await urlOf()).toBe(`http://127.0.0.1:${boxes.b.port}`);
  });

  it("about a chat on another box are refused", async () => {
    expect(await webhook("/events", status(chatOf.b), tokenOf("a"), boxes.a.id)).toBe(403);
    expect(await webhook("/events", status(chatOf.a), TEST_TOKEN)).toBe(403);
    expect(await webhook("/events", status(chatOf.env), tokenOf("b"), boxes.b.id)).toBe(403);
  });
});

describe("a box that is down", () => {
  it("shows as unreachable while the others answer and keep running chats", async () => {
    await boxes.b.box!.dispose({ keepData: true });
    expect(await healthOf(boxes.b.id)).toBe("unreachable");
    expect(await healthOf(boxes.a.id)).toBe("ok");
    const list = await worker.json<{ box: string; boxes: Record<string, string> }>("/api/chats");
    expect(list.body.box).toBe("unreachable");
    expect(list.body.boxes).toMatchObject({ env: "ok", [boxes.a.id]: "ok", [boxes.b.id]: "unreachable" });
    const sent = await worker.json<{ prompt: { state: string } }>(`/api/chats/${chatOf.a.id}/prompts`, { method: "POST", body: { text: "say: still here" } });
    expect(sent.body.prompt.state).toBe("sent");
  });

  it("restarted without its key, keeps its identity and is healthy again", async () => {
    boxes.b.box = await startBox("b");
    expect(await waitFor("box b healthy", async () => ((await healthOf(boxes.b.id)) === "ok" ? true : undefined))).toBe(true);
    expect((await worker.json(`/api/chats/${chatOf.b.id}/diff`)).status).toBe(200);
  });
});

describe("POST /api/boxes/:id/retire", () => {
  it("stops the box's calls and webhooks; its chats stay listed and say why", async () => {
    // As if a run were going on with a prompt waiting behind it: neither may wait for a retired box.
    await worker.sqlClient.execute({ sql: "UPDATE chats SET status = 'busy' WHERE id = ?", args: [chatOf.a.id] });
    await worker.sqlClient.execute({
      sql: "INSERT INTO prompts (id, chat_id, user_id, text, state, attempts, created_at) SELECT 'waits-for-a', id, user_id, 'say: later', 'queued', 0, ? FROM chats WHERE id = ?",
      args: [Date.now(), chatOf.a.id],
    });
    const retired = await worker.json<{ box: Box }>(`/api/boxes/${boxes.a.id}/retire`, { method: "POST" });
    expect(retired.status).toBe(200);
    expect(retired.body.box).toMatchObject({ id: boxes.a.id, retired: true });
    const prompt = await worker.json<ApiError>(`/api/chats/${chatOf.a.id}/prompts`, { method: "POST", body: { text: "say: too late" } });
    expect(prompt.status).toBe(409);
    expect(prompt.body.error.message).toMatch(/box "box a" was retired/);
    expect((await worker.json(`/api/chats/${chatOf.a.id}/diff`)).status).toBe(409);
    expect((await worker.json(`/api/box/oc/session/${chatOf.a.sessionId}/message`)).status).toBe(409);
    expect(await webhook("/events", { type: "chat.status", chatId: chatOf.a.id, status: "idle" }, tokenOf("a"), boxes.a.id)).toBe(401);
    const listed = (await worker.json<{ chats: Array<Chat & { error?: string }> }>("/api/chats")).body.chats.find((c) => c.id === chatOf.a.id);
    expect(listed).toMatchObject({ status: "interrupted", error: 'its box "box a" was retired' });
    const prompts = (await worker.json<{ prompts: Array<{ id: string; state: string; error?: string }> }>(`/api/chats/${chatOf.a.id}/prompts`)).body.prompts;
    expect(prompts.find((p) => p.id === "waits-for-a")).toMatchObject({ state: "failed", error: 'its box "box a" was retired' });
    expect((await worker.json("/api/chats", { method: "POST", body: { repo: "acme/app", boxId: boxes.a.id } })).status).toBe(400);
    const again = await worker.json<ApiError>("/internal/boxes/register", { method: "POST", body: { key: boxes.a.key, url: "https://box.example" } });
    expect(again.status).toBe(410);
    expect((await worker.json("/api/boxes/env/retire", { method: "POST" })).status).toBe(400);
    expect((await listBoxes()).boxes.find((b) => b.id === boxes.a.id)).toMatchObject({ retired: true });
    expect((await worker.fetch(`/api/chats/${chatOf.a.id}`, { method: "DELETE" })).status).toBe(204);
  });
});

describe("without an env box (no BOX_URL)", () => {
  it("new chats go to the live box seen last, the dashboard too; with no box a chat waits queued", async () => {
    const solo = await startTestWorker({ bindings: { DEV_LOGIN: "1" } });
    try {
      await solo.signInDev("carol");
      const lone = await solo.json<{ chat: Chat; box: string }>("/api/chats", { method: "POST", body: { repo: "acme/app" } });
      expect(lone.body.chat).toMatchObject({ boxId: "env", status: "queued" });
      expect((await solo.json<{ box: string }>("/api/chats")).body.box).toBe("unreachable");

      const closed = `http://127.0.0.1:${await freePort()}`;
      const ids: string[] = [];
      for (const name of ["older", "newer"]) {
        const made = await solo.json<{ box: { id: string }; registrationKey: string }>("/api/boxes", { method: "POST", body: { name } });
        const reg = await solo.json<{ boxId: string; token: string }>("/internal/boxes/register", { method: "POST", body: { key: made.body.registrationKey, url: closed } });
        expect(reg.status).toBe(201);
        expect(reg.body.boxId).toBe(made.body.box.id);
        ids.push(reg.body.boxId);
      }
      const [older, newer] = ids as [string, string];
      const seen = (id: string, at: number) => solo.sqlClient.execute({ sql: "UPDATE boxes SET last_seen_at = ? WHERE id = ?", args: [at, id] });
      const newChatBox = async () => (await solo.json<{ chat: Chat }>("/api/chats", { method: "POST", body: { repo: "acme/app" } })).body.chat.boxId;
      await seen(older, 1_000);
      await seen(newer, 2_000);
      expect(await newChatBox()).toBe(newer);
      const list = await solo.json<{ boxes: Box[]; defaultBox: string }>("/api/boxes");
      expect(list.body.defaultBox).toBe(newer);
      expect(list.body.boxes.map((b) => [b.name, b.health])).toEqual([["older", "unreachable"], ["newer", "unreachable"]]);
      const disk = await solo.json<ApiError>("/api/box/disk");
      expect(disk.status).toBe(503);
      expect(disk.body.error.message).toMatch(/box "newer" is unreachable/);
      await seen(newer, 500);
      expect(await newChatBox()).toBe(older);
      await solo.json(`/api/boxes/${older}/retire`, { method: "POST" });
      expect(await newChatBox()).toBe(newer);
    } finally {
      await solo.dispose();
    }
  });
});
