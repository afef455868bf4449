import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signBody } from "../../lib/signature.ts";
import { ulid } from "../../lib/ulid.ts";
import { chats } from "../../worker/db/schema.ts";
import { TEST_TOKEN } from "../helpers/box-harness.ts";
import { startTestWorker, type TestWorker } from "../helpers/worker-harness.ts";

type Usage = { cost: number; tokensIn: number; tokensOut: number };
type Day = { day: string; costUsd: number; tokensIn: number; tokensOut: number };
type UsageBody = { days: Day[]; today: Day };

const DAY_MS = 24 * 60 * 60 * 1000;
let worker: TestWorker;
let seq = 0;
let cookies: Record<string, string> = {};

// Just inside yesterday and just inside today (UTC), whatever the time of the run.
const startOfToday = () => Math.floor(Date.now() / DAY_MS) * DAY_MS;
const yesterdayAt = () => startOfToday() - 1000;
const todayAt = () => Math.min(startOfToday() + 1000, Date.now());
const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** Signs in as `login` (a fresh dev user) and returns its user id. */
async function signIn(login: string): Promise<string> {
  worker.jar.clear();
  await worker.signInDev(login);
  cookies[login] = worker.jar.get("ocweb_session")!;
  const me = await worker.json<{ user: { id: string } }>("/api/me");
  expect(me.status, me.text).toBe(200);
  return me.body.user.id;
}

function as(login: string) {
  worker.jar.clear();
  worker.jar.set("ocweb_session", cookies[login]!);
}

async function newChat(userId: string): Promise<string> {
  const id = ulid();
  const now = new Date();
  await worker.db.insert(chats).values({ id, userId, repo: "acme/app", branch: `ocweb/${id}`, status: "busy", createdAt: now, lastActivityAt: now });
  return id;
}

/** What the box posts when a run ends: the chat's totals so far, signed with BOX_TOKEN. */
async function runEnded(chatId: string, usage: Usage | undefined, at: number, status = "idle") {
  const body = JSON.stringify({ type: "chat.status", chatId, status, ...(usage ? { usage } : {}), id: ++seq, at });
  const res = await fetch(`${worker.url}/internal/box/events`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-ocweb-signature": await signBody(TEST_TOKEN, body) },
    body,
  });
  expect(res.status, await res.text()).toBe(204);
}

async function chatTotals(chatId: string) {
  const [row] = await worker.db.select({ costUsd: chats.costUsd, tokensIn: chats.tokensIn, tokensOut: chats.tokensOut }).from(chats).where(eq(chats.id, chatId));
  return row!;
}

async function usage(days: number): Promise<UsageBody> {
  const res = await worker.json<UsageBody>(`/api/usage?days=${days}`);
  expect(res.status, res.text).toBe(200);
  return res.body;
}

function expectDay(got: Day | undefined, day: string, want: Usage) {
  expect(got?.day).toBe(day);
  expect(got?.costUsd).toBeCloseTo(want.cost, 9);
  expect({ tokensIn: got?.tokensIn, tokensOut: got?.tokensOut }).toEqual({ tokensIn: want.tokensIn, tokensOut: want.tokensOut });
}

beforeAll(async () => {
  worker = await startTestWorker({ boxUrl: "http://127.0.0.1:9", boxToken: TEST_TOKEN, bindings: { DEV_LOGIN: "1" } });
});
afterAll(async () => {
  await worker?.dispose();
});

describe("usage from box events", () => {
  it("keeps each chat's totals and adds only what grew to the user's UTC day of the event", async () => {
    const alice = await signIn("alice");
    const chat = await newChat(alice);
    const first = { cost: 0.0325, tokensIn: 16_000, tokensOut: 120 };
    await runEnded(chat, first, yesterdayAt());
    expect(await chatTotals(chat)).toEqual({ costUsd: first.cost, tokensIn: first.tokensIn, tokensOut: first.tokensOut });

    // The same totals again (a retried webhook) add nothing.
    await runEnded(chat, first, yesterdayAt());
    // A stale event with smaller totals changes nothing, neither the chat nor any day.
    await runEnded(chat, { cost: 0.01, tokensIn: 5_000, tokensOut: 10 }, todayAt(), "error");
    expect(await chatTotals(chat)).toEqual({ costUsd: first.cost, tokensIn: first.tokensIn, tokensOut: first.tokensOut });

    // The next run ends today: today gets the difference, yesterday keeps its part.
    const second = { cost: 0.0725, tokensIn: 40_000, tokensOut: 300 };
    await runEnded(chat, second, todayAt());
    await runEnded(chat, second, todayAt());
    expect(await chatTotals(chat)).toEqual({ costUsd: second.cost, tokensIn: second.tokensIn, tokensOut: second.tokensOut });

    const body = await usage(2);
    expect(body.days).toHaveLength(2);
    expectDay(body.days[0], dayOf(yesterdayAt()), first);
    expectDay(body.days[1], dayOf(todayAt()), { cost: second.cost - first.cost, tokensIn: 24_000, tokensOut: 180 });
    expect(body.today).toEqual(body.days[1]);
  });

  it("sums a user's chats per day, and shows no one else's", async () => {
    const bob = await signIn("bob");
    const [a, b] = [await newChat(bob), await newChat(bob)];
    await runEnded(a, { cost: 0.5, tokensIn: 1_000, tokensOut: 100 }, todayAt());
    await runEnded(b, { cost: 0.25, tokensIn: 2_000, tokensOut: 50 }, todayAt());
    // A status event without usage (busy, or from an older box) leaves the totals alone.
    await runEnded(a, undefined, todayAt(), "busy");
    expectDay((await usage(1)).today, dayOf(todayAt()), { cost: 0.75, tokensIn: 3_000, tokensOut: 150 });

    const carol = await signIn("carol");
    expect(carol).not.toBe(bob);
    const body = await usage(1);
    expect(body.days).toEqual([{ day: dayOf(todayAt()), costUsd: 0, tokensIn: 0, tokensOut: 0 }]);
    as("bob");
    expect((await usage(1)).today.tokensIn).toBe(3_000);
  });

  it("ignores usage for a chat it does not know", async () => {
    await signIn("dave");
    await runEnded(ulid(), { cost: 9, tokensIn: 9, tokensOut: 9 }, todayAt());
    expect((await usage(1)).today.tokensIn).toBe(0);
  });
});

describe("GET /api/usage", () => {
  it("lists the last N UTC days, oldest first, 7 by default", async () => {
    await signIn("erin");
    const body = (await worker.json<UsageBody>("/api/usage")).body;
    expect(body.days.map((d) => d.day)).toEqual(Array.from({ length: 7 }, (_, i) => dayOf(Date.now() - (6 - i) * DAY_MS)));
    expect((await usage(90)).days).toHaveLength(90);
  });

  it.each(["0", "91", "-1", "1.5", "abc", ""])("answers 400 with a message for days=%s", async (days) => {
    await signIn("erin");
    const res = await worker.json<{ error: { code: string; message: string } }>(`/api/usage?days=${days}`);
    expect(res.status, res.text).toBe(400);
    expect(res.body.error.message).toMatch(/days/);
  });

  it("needs a session", async () => {
    worker.jar.clear();
    expect((await worker.fetch("/api/usage?days=1")).status).toBe(401);
  });
});
