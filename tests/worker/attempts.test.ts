import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_MODEL_B_ID, DEMO_MODEL_ID } from "../../box/demo-model/config.ts";
import { git, type Remote } from "../helpers/git-fixture.ts";
import type { BoxHarness } from "../helpers/box-harness.ts";
import { startWorkerWithBox } from "../helpers/worker-with-box.ts";
import type { TestWorker } from "../helpers/worker-harness.ts";
import { waitFor } from "../helpers/wait-for.ts";

type Chat = { id: string; repo: string; branch: string; status: string; error?: string; model?: string; groupId?: string; archived: boolean; sessionId?: string; directory?: string; filesChanged: number };
type Group = { chat: Chat; group: { id: string; chats: Chat[] } };
type ApiErrorBody = { error?: { code?: string; message?: string } };

const PROMPT = "write attempt.txt: tried\nsay: attempt done";
let remote: Remote;
let box: BoxHarness;
let worker: TestWorker;
let made: Group;

const getChat = async (id: string) => (await worker.json<{ chat: Chat }>(`/api/chats/${id}`)).body.chat;
const listIds = async (query = "") => {
  const res = await worker.json<{ chats: Chat[] }>(`/api/chats${query}`);
  expect(res.status, res.text).toBe(200);
  return res.body.chats.map((c) => c.id);
};
const create = (body: unknown) => worker.json<Group & ApiErrorBody>("/api/chats", { method: "POST", body });
/** The demo model's tool-enabled requests (runs, not titles) for the session working in `dir`. */
const modelsAskedIn = (dir: string) =>
  new Set((box.box.demo?.requests ?? []).filter((r) => (r.tools?.length ?? 0) > 0 && r.messages.some((m) => m.role === "system" && JSON.stringify(m.content).includes(`Working directory: ${dir}`))).map((r) => r.model));

beforeAll(async () => ({ remote, box, worker } = await startWorkerWithBox()));
afterAll(async () => {
  await worker?.dispose();
  await box?.dispose();
  await remote?.cleanup();
});

describe("POST /api/chats with attempts", () => {
  const body = { repo: "acme/app", model: DEMO_MODEL_B_ID, models: [DEMO_MODEL_B_ID, DEMO_MODEL_ID], attempts: 3, prompt: { promptId: "attempts-1", text: PROMPT } };

  it("answers 201 with the first chat and a group of three queued chats sharing one groupId", async () => {
    const res = await create(body);
    expect(res.status, res.text).toBe(201);
    made = res.body;
    expect(made.group.id).toMatch(/^[0-9A-Z]{26}$/);
    expect(made.group.chats).toHaveLength(3);
    expect(made.chat.id).toBe(made.group.chats[0]!.id);
    expect(made.group.chats.map((c) => c.groupId)).toEqual([made.group.id, made.group.id, made.group.id]);
    expect(made.group.chats.map((c) => c.status)).toEqual(["queued", "queued", "queued"]);
    // models[i] ?? model: the third attempt takes `model`, not the box's default.
    expect(made.group.chats.map((c) => c.model)).toEqual([DEMO_MODEL_B_ID, DEMO_MODEL_ID, DEMO_MODEL_B_ID]);
    expect(new Set(made.group.chats.map((c) => c.branch))).toEqual(new Set(made.group.chats.map((c) => `ocweb/${c.id}`)));
  });

  it("each attempt gets its own branch and worktree, runs with its own model and finishes", async () => {
    const done = await Promise.all(made.group.chats.map((c) => waitFor(`attempt ${c.id} idle with a checkpoint`, async () => {
      const chat = await getChat(c.id);
      if (chat.status === "error") throw new Error(`attempt ${c.id} failed: ${chat.error}`);
      return chat.sessionId && chat.status === "idle" && chat.filesChanged > 0 ? chat : undefined;
    }, 90_000)));
    const dirs = done.map((c) => c.directory!);
    expect(new Set(dirs).size).toBe(3);
    for (const chat of done) {
      expect((await git(chat.directory!, ["rev-parse", "--abbrev-ref", "HEAD"])).trim()).toBe(chat.branch);
      expect(readFileSync(path.join(chat.directory!, "attempt.txt"), "utf8")).toBe("tried");
      const diff = await worker.json<{ files: Array<{ path: string; additions: number }> }>(`/api/chats/${chat.id}/diff`);
      expect(diff.body.files).toEqual([expect.objectContaining({ path: "attempt.txt", additions: 1 })]);
    }
    expect(dirs.map(modelsAskedIn)).toEqual([new Set(["alt"]), new Set(["scripted"]), new Set(["alt"])]);
  });

  it("a retried send (same promptId) answers 200 with the same group and creates nothing", async () => {
    const again = await create(body);
    expect(again.status, again.text).toBe(200);
    expect(again.body.group.id).toBe(made.group.id);
    expect(again.body.group.chats.map((c) => c.id)).toEqual(made.group.chats.map((c) => c.id));
    const rows = await worker.sqlClient.execute({ sql: "SELECT count(*) AS n FROM chats WHERE group_id = ?", args: [made.group.id] });
    expect(Number(rows.rows[0]!.n)).toBe(3);
  });

  it("GET /api/chats?group= lists the group in attempt order, and only it", async () => {
    const single = await create({ repo: "acme/app", prompt: { text: "say: alone" } });
    expect(single.status).toBe(201);
    expect(single.body.group).toBeUndefined();
    expect(await listIds(`?group=${made.group.id}`)).toEqual(made.group.chats.map((c) => c.id));
    expect(await listIds()).toEqual(expect.arrayContaining([single.body.chat.id, ...made.group.chats.map((c) => c.id)]));
    expect(await listIds("?group=01J9ZXQ4W7B2M5N8P3R6T0V1Y4")).toEqual([]);
  });
});

describe("POST /api/chats/:id/pick", () => {
  it("ships one attempt: the others are archived here and on the box; picking another swaps them", async () => {
    const [first, second, third] = made.group.chats.map((c) => c.id) as [string, string, string];
    const res = await worker.json<{ chat: Chat; archived: string[] }>(`/api/chats/${second}/pick`, { method: "POST" });
    expect(res.status, res.text).toBe(200);
    expect(res.body.chat).toMatchObject({ id: second, archived: false });
    expect(res.body.archived).toEqual([first, third]);
    const visible = await listIds();
    expect(visible).toContain(second);
    expect(visible).not.toContain(first);
    expect(visible).not.toContain(third);
    const whole = await worker.json<{ chats: Chat[] }>(`/api/chats?group=${made.group.id}`);
    expect(whole.body.chats.map((c) => [c.id, c.archived])).toEqual([[first, true], [second, false], [third, true]]);
    expect(await listIds(`?group=${made.group.id}&archived=false`)).toEqual([second]);
    const archivedOnBox = async (id: string) => ((await box.call("GET", `/mgmt/chats/${id}`)).json as { archived?: boolean }).archived;
    await waitFor("the box to archive the other two", async () => ((await archivedOnBox(first)) && (await archivedOnBox(third)) ? true : undefined));
    expect(await archivedOnBox(second)).toBe(false);

    const swap = await worker.json<{ chat: Chat; archived: string[] }>(`/api/chats/${first}/pick`, { method: "POST" });
    expect(swap.status, swap.text).toBe(200);
    expect(swap.body.archived).toEqual([second, third]);
    expect(await listIds(`?group=${made.group.id}&archived=false`)).toEqual([first]);
    await waitFor("the box to swap them", async () => ((await archivedOnBox(first)) === false && (await archivedOnBox(second)) ? true : undefined));
    // Archived is not deleted: the worktrees stay until the box's GC wants the space.
    expect(existsSync((await getChat(second)).directory!)).toBe(true);
  });

  it("refuses a chat outside any group (400) and another user's chat (404)", async () => {
    const single = await create({ repo: "acme/app" });
    const lone = await worker.json<ApiErrorBody>(`/api/chats/${single.body.chat.id}/pick`, { method: "POST" });
    expect(lone.status).toBe(400);
    expect(lone.body.error?.message).toMatch(/not one of a group/);
    const alice = worker.jar.get("ocweb_session")!;
    worker.jar.clear();
    await worker.signInDev("mallory");
    expect((await worker.json(`/api/chats/${made.chat.id}/pick`, { method: "POST" })).status).toBe(404);
    expect(await listIds(`?group=${made.group.id}`)).toEqual([]);
    worker.jar.clear();
    worker.jar.set("ocweb_session", alice);
  });
});

describe("bad attempts input", () => {
  const prompt = { text: "say: hi" };
  const cases: Array<[string, unknown, RegExp]> = [
    ["zero attempts", { repo: "acme/app", attempts: 0, prompt }, /attempts/],
    ["five attempts", { repo: "acme/app", attempts: 5, prompt }, /attempts/],
    ["a fractional count", { repo: "acme/app", attempts: 2.5, prompt }, /attempts/],
    ["more models than attempts", { repo: "acme/app", attempts: 2, models: [DEMO_MODEL_ID, DEMO_MODEL_ID, DEMO_MODEL_ID], prompt }, /models/],
    ["a model without a slash", { repo: "acme/app", attempts: 2, models: ["gpt-4"], prompt }, /models\.0/],
    ["attempts without a prompt", { repo: "acme/app", attempts: 2 }, /prompt/],
    ["a promptId too long for its suffixes", { repo: "acme/app", attempts: 2, prompt: { promptId: "p".repeat(62), text: "hi" } }, /promptId/],
  ];
  it.each(cases)("%s → 400 with a message, and no chat", async (_label, body, message) => {
    const before = (await listIds()).length;
    const res = await create(body);
    expect(res.status, res.text).toBe(400);
    expect(res.body.error?.message).toMatch(message);
    expect((await listIds()).length).toBe(before);
  });

  it("a bad group filter → 400; a promptId already used by a single chat → 409", async () => {
    expect((await worker.json("/api/chats?group=nope")).status).toBe(400);
    expect((await create({ repo: "acme/app", prompt: { promptId: "single-then-group", text: "say: one" } })).status).toBe(201);
    const clash = await create({ repo: "acme/app", attempts: 2, prompt: { promptId: "single-then-group", text: "say: one" } });
    expect(clash.status, clash.text).toBe(409);
    expect(clash.body.error?.message).toMatch(/new promptId/);
  });
});
