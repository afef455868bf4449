import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeRemote } from "../helpers/git-fixture.ts";
import type { BoxHarness } from "../helpers/box-harness.ts";
import { runFinished, startWorkerWithBox } from "../helpers/worker-with-box.ts";
import type { TestWorker } from "../helpers/worker-harness.ts";
import { waitFor } from "../helpers/wait-for.ts";

type Chat = { id: string; status: string; sessionId?: string; branch: string; title?: string; forkedFrom?: string };
type Checkpoint = { sha: string; files: string[] };

let remote: Awaited<ReturnType<typeof makeRemote>>;
let box: BoxHarness;
let worker: TestWorker;

const getChat = async (id: string) => (await worker.json<{ chat: Chat }>(`/api/chats/${id}`)).body.chat;
const checkpointsOf = async (id: string) => (await worker.json<{ checkpoints: Checkpoint[] }>(`/api/chats/${id}/checkpoints`)).body.checkpoints;

beforeAll(async () => ({ remote, box, worker } = await startWorkerWithBox()));
afterAll(async () => {
  await worker?.dispose();
  await box?.dispose();
  await remote?.cleanup();
});

describe("POST /api/chats/:id/fork", () => {
  let parent: Chat;
  let first: Checkpoint;

  it("a chat with two checkpoints lists both with their files", async () => {
    const made = await worker.json<{ chat: Chat }>("/api/chats", { method: "POST", body: { repo: "acme/app", prompt: { text: "write a.txt: A\nsay: a" } } });
    parent = await runFinished<Chat>(worker, made.body.chat.id, 1);
    await worker.json(`/api/chats/${parent.id}/prompts`, { method: "POST", body: { text: "write b.txt: B\nsay: b" } });
    await runFinished<Chat>(worker, parent.id, 2);
    const cps = await waitFor("two checkpoints", async () => {
      const list = await checkpointsOf(parent.id);
      return list.length === 2 ? list : undefined;
    });
    expect(cps.map((c) => c.files)).toEqual([["b.txt"], ["a.txt"]]);
    first = cps[1]!;
  });

  it("forks from the older checkpoint into a new chat that runs its own prompt", async () => {
    const res = await worker.json<{ chat: Chat }>(`/api/chats/${parent.id}/fork`, { method: "POST", body: { sha: first.sha, prompt: { promptId: "fork-prompt-1", text: "write c.txt: C\nsay: c" } } });
    expect(res.status).toBe(201);
    expect(res.body.chat.id).not.toBe(parent.id);
    expect(res.body.chat.forkedFrom).toBe(`${parent.id}@${first.sha}`);
    const child = await runFinished<Chat>(worker, res.body.chat.id, 1);
    const diff = await worker.json<{ files: Array<{ path: string }> }>(`/api/chats/${child.id}/diff`);
    expect(diff.body.files.map((f) => f.path).sort()).toEqual(["a.txt", "c.txt"]);

    const again = await worker.json<{ chat: Chat }>(`/api/chats/${parent.id}/fork`, { method: "POST", body: { sha: first.sha, prompt: { promptId: "fork-prompt-1", text: "write c.txt: C\nsay: c" } } });
    expect(again.status).toBe(200);
    expect(again.body.chat.id).toBe(child.id);
  });

  it("without a prompt the fork is named after its parent and checkpoint", async () => {
    const res = await worker.json<{ chat: Chat }>(`/api/chats/${parent.id}/fork`, { method: "POST", body: { sha: first.sha } });
    expect(res.status).toBe(201);
    expect(res.body.chat.title).toMatch(new RegExp(`^Fork of .+ @ ${first.sha.slice(0, 7)}$`));
  });

  it("refuses a sha that is not one of the chat's checkpoints, a bad sha, and another user's chat", async () => {
    const foreign = await worker.json<{ error: { message: string } }>(`/api/chats/${parent.id}/fork`, { method: "POST", body: { sha: "f".repeat(40) } });
    expect(foreign.status).toBe(400);
    expect(foreign.body.error.message).toMatch(/not a checkpoint of this chat/);
    const bad = await worker.json<{ error: { message: string } }>(`/api/chats/${parent.id}/fork`, { method: "POST", body: { sha: "HEAD~1" } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/sha/);
    await worker.signInDev("mallory");
    const stranger = await worker.json(`/api/chats/${parent.id}/fork`, { method: "POST", body: { sha: first.sha } });
    expect(stranger.status).toBe(404);
    await worker.signInDev("alice");
  });
});
