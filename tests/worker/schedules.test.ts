import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeRemote } from "../helpers/git-fixture.ts";
import { startTestBox, type BoxHarness } from "../helpers/box-harness.ts";
import { deliveredPromptIds, runFinished, startWorkerWithBox } from "../helpers/worker-with-box.ts";
import type { TestWorker } from "../helpers/worker-harness.ts";

type Schedule = { id: string; repo: string; cron: string; reuse: boolean; chatId?: string; paused: boolean; nextRunAt?: string; lastRunAt?: string; next: string[] };
type Run = { id: string; scheduledFor: string; chatId?: string; status: string; error?: string };
type Chat = { id: string; status: string; sessionId?: string; title?: string };
type Prompt = { id: string; state: string };
type Message = { info: { role: string }; parts: Array<{ type: string; text?: string; metadata?: { ocwebPromptId?: string } }> };

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

let remote: Awaited<ReturnType<typeof makeRemote>>;
let box: BoxHarness;
let worker: TestWorker;
let boxPort = 0;

const create = (body: Record<string, unknown>) => worker.json<{ schedule: Schedule }>("/api/schedules", { method: "POST", body: { repo: "acme/app", ...body } });
const patch = (id: string, body: Record<string, unknown>) => worker.json<{ schedule: Schedule }>(`/api/schedules/${id}`, { method: "PATCH", body });
const detail = async (id: string) => (await worker.json<{ schedule: Schedule; runs: Run[] }>(`/api/schedules/${id}`)).body;
const remove = async (id: string) => expect((await worker.fetch(`/api/schedules/${id}`, { method: "DELETE" })).status).toBe(204);
const chatPrompts = async (chatId: string) => (await worker.json<{ prompts: Prompt[] }>(`/api/chats/${chatId}/prompts`)).body.prompts;
const getChat = async (chatId: string) => (await worker.json<{ chat: Chat }>(`/api/chats/${chatId}`)).body.chat;
/** A Cron Trigger invocation whose scheduledTime is `at`; resolves after its waitUntil work is done. */
const fire = (at: number) => worker.scheduled(at);
const slotOf = (s: Schedule) => Date.parse(s.nextRunAt!);
const chatsOfSchedule = async (scheduleId: string) =>
  Number((await worker.sqlClient.execute({ sql: "SELECT count(*) AS n FROM chats WHERE schedule_id = ?", args: [scheduleId] })).rows[0]!.n);

beforeAll(async () => ({ remote, box, worker, boxPort } = await startWorkerWithBox()));
afterAll(async () => {
  await worker?.dispose();
  await box?.dispose();
  await remote?.cleanup();
});

describe("POST /api/schedules/preview", () => {
  it("answers the next runs of a 5-field cron, in UTC", async () => {
    const res = await worker.json<{ next: string[] }>("/api/schedules/preview", { method: "POST", body: { cron: "0 2 * * *" } });
    expect(res.status).toBe(200);
    expect(res.body.next).toHaveLength(5);
    for (const at of res.body.next) expect(at).toMatch(/T02:00:00\.000Z$/);
    expect(Date.parse(res.body.next[0]!)).toBeGreaterThan(Date.now());
    expect(Date.parse(res.body.next[1]!) - Date.parse(res.body.next[0]!)).toBe(DAY);
  });

  it("refuses seconds, out-of-range values, a date that never comes and nonsense with a 400 that says why", async () => {
    const cases: Array<[string, RegExp]> = [
      ["0 0 2 * * *", /5 fields.*got 6.*seconds/],
      ["61 * * * *", /minute: 61/],
      ["0 0 30 2 *", /never runs/],
      ["every night", /5 fields.*got 2/],
      ["@daily", /5 fields.*got 1/],
      ["*/0 * * * *", /stepping/],
    ];
    for (const [cron, reason] of cases) {
      const res = await worker.json<{ error: { code: string; message: string } }>("/api/schedules/preview", { method: "POST", body: { cron } });
      expect(res.status, cron).toBe(400);
      expect(res.body.error.message, cron).toMatch(reason);
    }
  });
});

describe("/api/schedules", () => {
  it("creates, lists with the next 3 runs, edits, pauses, resumes and deletes", async () => {
    const made = await create({ prompt: "say: weekday", cron: " 30  3 * * 1-5 " });
    expect(made.status).toBe(201);
    const s = made.body.schedule;
    expect(s).toMatchObject({ repo: "acme/app", cron: "30 3 * * 1-5", reuse: false, paused: false });
    expect(s.next).toHaveLength(3);
    for (const at of s.next) expect([at.slice(11), new Date(at).getUTCDay() % 6 !== 0]).toEqual(["03:30:00.000Z", true]);
    expect(s.nextRunAt).toBe(s.next[0]);

    const list = await worker.json<{ schedules: Schedule[] }>("/api/schedules");
    expect(list.body.schedules.find((x) => x.id === s.id)?.next).toEqual(s.next);

    const edited = await patch(s.id, { cron: "0 4 * * *", reuse: true });
    expect(edited.body.schedule).toMatchObject({ cron: "0 4 * * *", reuse: true });
    expect(edited.body.schedule.nextRunAt).toMatch(/T04:00:00\.000Z$/);
    const paused = await patch(s.id, { paused: true });
    expect(paused.body.schedule).toMatchObject({ paused: true, next: [] });
    expect(paused.body.schedule.nextRunAt).toBeUndefined();
    const resumed = await patch(s.id, { paused: false });
    expect(resumed.body.schedule.next).toHaveLength(3);
    expect((await patch(s.id, {})).status).toBe(400);
    const bad = await worker.json<{ error: { message: string } }>(`/api/schedules/${s.id}`, { method: "PATCH", body: { cron: "0 0 2 * * *" } });
    expect([bad.status, bad.body.error.message]).toEqual([400, expect.stringMatching(/cron: must have 5 fields/)]);

    const alice = worker.jar.get("ocweb_session")!;
    worker.jar.clear();
    await worker.signInDev("mallory");
    expect((await worker.json(`/api/schedules/${s.id}`)).status).toBe(404);
    expect((await patch(s.id, { paused: true })).status).toBe(404);
    expect((await worker.json<{ schedules: Schedule[] }>("/api/schedules")).body.schedules).toEqual([]);
    worker.jar.clear();
    worker.jar.set("ocweb_session", alice);

    await remove(s.id);
    expect((await worker.json(`/api/schedules/${s.id}`)).status).toBe(404);
  });

  it("refuses a bad repo, an empty prompt, a missing cron and a bad base with a 400", async () => {
    for (const body of [{ repo: "acme", prompt: "x", cron: "0 2 * * *" }, { prompt: " ", cron: "0 2 * * *" }, { prompt: "x" }, { prompt: "x", cron: "0 2 * * *", base: "-x" }]) {
      expect((await create(body)).status, JSON.stringify(body)).toBe(400);
    }
  });
});

describe("the scheduled() handler", () => {
  it("fires a due schedule: a new chat whose run completes with the scripted model, once per slot", async () => {
    const s = (await create({ prompt: "write nightly.txt: ok\nsay: nightly done", cron: "0 2 * * *" })).body.schedule;
    const slot = slotOf(s);
    await fire(slot - 60_000);
    expect((await detail(s.id)).runs).toEqual([]);

    await fire(slot);
    const [run] = (await detail(s.id)).runs;
    expect(run).toMatchObject({ scheduledFor: new Date(slot).toISOString(), chatId: expect.any(String) });
    const chat = await runFinished<Chat>(worker, run!.chatId!, 1);
    expect(chat.title).toBe("write nightly.txt: ok");
    const res = await worker.json<Message[]>(`/api/box/oc/session/${chat.sessionId}/message`);
    expect(res.body.flatMap((m) => m.parts).some((p) => p.type === "text" && p.text?.includes("nightly done"))).toBe(true);

    await fire(slot + 30_000);
    const after = await detail(s.id);
    expect(after.runs).toHaveLength(1);
    expect(after.runs[0]).toMatchObject({ chatId: chat.id, status: "idle" });
    expect(after.schedule).toMatchObject({ lastRunAt: new Date(slot).toISOString(), nextRunAt: new Date(slot + DAY).toISOString() });
    await remove(s.id);
  });

  it("with reuse on, every run continues the same chat", async () => {
    const s = (await create({ prompt: "say: again", cron: "0 3 * * *", reuse: true })).body.schedule;
    const slot = slotOf(s);
    await fire(slot);
    const first = (await detail(s.id)).runs[0]!;
    await runFinished(worker, first.chatId!, 1);
    await fire(slot + DAY);
    const { runs, schedule } = await detail(s.id);
    expect(runs.map((r) => r.chatId)).toEqual([first.chatId, first.chatId]);
    expect(schedule.chatId).toBe(first.chatId);
    await runFinished(worker, first.chatId!, 2);
    expect(await chatsOfSchedule(s.id)).toBe(1);
    await remove(s.id);
  });

  it("a schedule firing while the box is down runs once when it is back", async () => {
    const s = (await create({ prompt: "say: while you were away", cron: "15 1 * * *" })).body.schedule;
    const slot = slotOf(s);
    await box.dispose({ keepData: true });

    await fire(slot);
    const [run] = (await detail(s.id)).runs;
    expect(run).toMatchObject({ chatId: expect.any(String), status: "queued" });
    expect((await getChat(run!.chatId!)).status).toBe("queued");
    // A later invocation, and one that finds the schedule still due (its advance lost), change nothing.
    await fire(slot + 60_000);
    await worker.sqlClient.execute({ sql: "UPDATE schedules SET next_run_at = ? WHERE id = ?", args: [slot, s.id] });
    await fire(slot + 120_000);
    expect((await detail(s.id)).runs.map((r) => r.id)).toEqual([run!.id]);
    expect(await chatsOfSchedule(s.id)).toBe(1);
    const prompts = await chatPrompts(run!.chatId!);
    expect(prompts.map((p) => p.state)).toEqual(["queued"]);

    box = await startTestBox({ baseUrl: remote.baseUrl, dataDir: box.dataDir, port: boxPort, env: { WORKER_URL: worker.url } });
    const chat = await runFinished<Chat>(worker, run!.chatId!, 1); // delivered by the outbox after the box's hello
    await fire(slot + 180_000);
    expect(await deliveredPromptIds(worker, chat.sessionId!)).toEqual([prompts[0]!.id]);
    expect((await detail(s.id)).runs).toMatchObject([{ id: run!.id, status: "idle" }]);
    await remove(s.id);
  });

  it("after many missed slots it runs only the latest, once, and says so in the run history", async () => {
    const s = (await create({ prompt: "say: hourly", cron: "0 * * * *" })).body.schedule;
    const first = slotOf(s);
    await fire(first + 5 * HOUR + 10 * 60_000);
    const { runs, schedule } = await detail(s.id);
    expect(runs).toMatchObject([
      { scheduledFor: new Date(first + 5 * HOUR).toISOString(), chatId: expect.any(String) },
      { scheduledFor: new Date(first).toISOString(), status: "skipped", error: expect.stringMatching(/^skipped 5 runs .*only the latest ran, once$/) },
    ]);
    expect(runs[1]!.chatId).toBeUndefined();
    expect(schedule.nextRunAt).toBe(new Date(first + 6 * HOUR).toISOString());
    expect(await chatsOfSchedule(s.id)).toBe(1);
    await runFinished(worker, runs[0]!.chatId!, 1);
    await remove(s.id);
  });

  it("a paused schedule does not fire", async () => {
    const s = (await create({ prompt: "say: never", cron: "45 0 * * *" })).body.schedule;
    await patch(s.id, { paused: true });
    await fire(slotOf(s) + 60_000);
    expect((await detail(s.id)).runs).toEqual([]);
    expect(await chatsOfSchedule(s.id)).toBe(0);
    await remove(s.id);
  });
});
