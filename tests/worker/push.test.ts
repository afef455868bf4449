import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signBody } from "../../lib/signature.ts";
import { chats, pushSubscriptions } from "../../worker/db/schema.ts";
import { vapidConfig } from "../../worker/push/config.ts";
import { applyBoxEvent } from "../../worker/routes/internal.ts";
import { startTestBox, TEST_TOKEN, type BoxHarness } from "../helpers/box-harness.ts";
import { makeRemote, type Remote } from "../helpers/git-fixture.ts";
import { githubSignIn, startGithubStandin, STANDIN_CLIENT_ID, STANDIN_CLIENT_SECRET, type GithubStandin } from "../helpers/github-standin.ts";
import { startPushStandin, type PushStandin, type PushSubscriptionJson } from "../helpers/push-standin.ts";
import { waitFor } from "../helpers/wait-for.ts";
import { startTestWorker, type TestWorker } from "../helpers/worker-harness.ts";

type Chat = { id: string; status: string; sessionId?: string };
type ApiErrorBody = { error?: { code?: string; message?: string } };
const SUBJECT = "mailto:push-test@example.com";

let push: PushStandin;
let worker: TestWorker;
let vapid: { privateKey: string; publicKey: string };
const sessions: Record<string, string> = {};
const devices: PushSubscriptionJson[] = [];

async function makeVapidKeys() {
  const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
  const jwk = await crypto.subtle.exportKey("jwk", pair.privateKey);
  const raw = Buffer.from(await crypto.subtle.exportKey("raw", pair.publicKey));
  return { privateKey: JSON.stringify(jwk), publicKey: raw.toString("base64url") };
}

async function signIn(w: TestWorker, login: string) {
  w.jar.clear();
  await w.signInDev(login);
  sessions[login] = w.jar.get("ocweb_session")!;
}
const useSession = (login: string) => {
  worker.jar.clear();
  worker.jar.set("ocweb_session", sessions[login]!);
};

const subscribe = (w: TestWorker, device: PushSubscriptionJson, userAgent = "Pixel 7 test") =>
  w.json<{ subscription: { id: string } }>("/api/push/subscriptions", { method: "POST", body: device, headers: { "user-agent": userAgent } });
const listSubscriptions = async (w: TestWorker = worker) =>
  (await w.json<{ subscriptions: Array<{ id: string; userAgent?: string; createdAt: string }> }>("/api/push/subscriptions")).body.subscriptions;

async function boxEvent(w: TestWorker, event: Record<string, unknown>) {
  const body = JSON.stringify({ at: Date.now(), ...event });
  const res = await fetch(`${w.url}/internal/box/events`, { method: "POST", headers: { "content-type": "application/json", "x-ocweb-signature": await signBody(TEST_TOKEN, body) }, body });
  expect(res.status, await res.text()).toBe(204);
}

async function newChat(text: string): Promise<Chat> {
  const res = await worker.json<{ chat: Chat }>("/api/chats", { method: "POST", body: { repo: "acme/app", prompt: { text } } });
  expect(res.status, res.text).toBe(201);
  return res.body.chat;
}

const pushesFor = (chatId: string, kind?: string) => push.received.filter((m) => m.payload.chatId === chatId && (!kind || m.payload.kind === kind));
const waitForPushes = (what: string, chatId: string, kind: string, count: number) =>
  waitFor(`${count} ${what} pushes`, async () => (pushesFor(chatId, kind).length >= count ? pushesFor(chatId, kind) : undefined), 20_000, () => ({ received: push.received.length, refused: push.refused }));

/** Sends the test notification and waits for it: pushes scheduled before it have had their turn. */
async function drain(w: TestWorker = worker): Promise<number> {
  const res = await w.json<{ sent: number }>("/api/push/test", { method: "POST" });
  expect(res.status, res.text).toBe(200);
  return res.body.sent;
}

function expectError(res: { status: number; text: string; body: unknown }, status: number, label: string) {
  expect(res.status, `${label}: ${res.text}`).toBe(status);
  expect((res.body as ApiErrorBody).error?.message?.trim(), label).toBeTruthy();
}

beforeAll(async () => {
  vapid = await makeVapidKeys();
  push = await startPushStandin();
  worker = await startTestWorker({ outbound: push.outbound, bindings: { DEV_LOGIN: "1", BOX_TOKEN: TEST_TOKEN, VAPID_PRIVATE_KEY: vapid.privateKey, VAPID_SUBJECT: SUBJECT } });
  await signIn(worker, "bob");
  await signIn(worker, "alice");
});
afterAll(async () => {
  await worker?.dispose();
  await push?.close();
});

describe("VAPID configuration", () => {
  it("GET /api/push/key answers the public key PushManager.subscribe takes", async () => {
    const res = await worker.json<{ publicKey: string }>("/api/push/key");
    expect(res.status, res.text).toBe(200);
    expect(res.body.publicKey).toBe(vapid.publicKey);
    expect(Buffer.from(res.body.publicKey, "base64url")).toHaveLength(65);
  });

  it("missing, broken or mismatched keys are a 503 that says what to fix", async () => {
    const env = { DATABASE_URL: "", SESSION_SECRET: "" };
    const other = await makeVapidKeys();
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{}, /VAPID_PRIVATE_KEY/],
      [{ VAPID_PRIVATE_KEY: "{not json" }, /P-256 private JWK/],
      [{ VAPID_PRIVATE_KEY: JSON.stringify({ kty: "EC", crv: "P-256" }) }, /P-256 private JWK/],
      [{ VAPID_PRIVATE_KEY: vapid.privateKey, VAPID_PUBLIC_KEY: other.publicKey }, /VAPID_PUBLIC_KEY/],
      [{ VAPID_PRIVATE_KEY: vapid.privateKey, VAPID_SUBJECT: "push@example.com" }, /VAPID_SUBJECT/],
    ];
    for (const [vars, message] of cases) {
      expect(() => vapidConfig({ ...env, ...vars }), JSON.stringify(vars)).toThrow(message);
    }
    expect(vapidConfig({ ...env, VAPID_PRIVATE_KEY: vapid.privateKey, VAPID_PUBLIC_KEY: vapid.publicKey })).toMatchObject({ publicKey: vapid.publicKey, subject: "mailto:ocweb@example.com" });
  });

  it("a worker without keys answers 503 with a message on /key and /test", async () => {
    const bare = await startTestWorker({ bindings: { DEV_LOGIN: "1" } });
    try {
      await bare.signInDev("alice");
      const key = await bare.json<ApiErrorBody>("/api/push/key");
      expectError(key, 503, "key");
      expect(key.body.error?.message).toMatch(/VAPID_PRIVATE_KEY/);
      expectError(await bare.json("/api/push/test", { method: "POST" }), 503, "test");
    } finally {
      await bare.dispose();
    }
  });
});

describe("POST /api/push/subscriptions", () => {
  it("stores one subscription per device; the same endpoint again is an upsert (200, same id)", async () => {
    useSession("alice");
    devices.push(push.subscribe({ applicationServerKey: vapid.publicKey }), push.subscribe({ applicationServerKey: vapid.publicKey }));
    const first = await subscribe(worker, devices[0]!, "Pixel 7 test");
    const second = await subscribe(worker, devices[1]!, "iPhone test");
    expect([first.status, second.status], first.text + second.text).toEqual([201, 201]);
    expect(first.body.subscription.id).toMatch(/^[0-9A-Z]{26}$/);
    const again = await subscribe(worker, devices[0]!, "Pixel 7 test, updated");
    expect(again.status, again.text).toBe(200);
    expect(again.body.subscription.id).toBe(first.body.subscription.id);
    const list = await listSubscriptions();
    expect(list.map((s) => s.userAgent).sort()).toEqual(["Pixel 7 test, updated", "iPhone test"]);
    expect(list.every((s) => !Number.isNaN(Date.parse(s.createdAt)))).toBe(true);
  });

  const valid = () => push.subscribe();
  const bytes = (n: number, first = 4) => Buffer.from([first, ...new Uint8Array(n - 1).fill(7)]).toString("base64url");
  const cases: Array<[string, () => unknown]> = [
    ["no keys", () => ({ endpoint: valid().endpoint })],
    ["an endpoint that is not a URL", () => ({ ...valid(), endpoint: "push me" })],
    ["a plain-http endpoint off loopback", () => ({ ...valid(), endpoint: "http://push.example.com/send/1" })],
    ["a plain-http endpoint on loopback", () => ({ ...valid(), endpoint: "http://127.0.0.1:8080/push/1" })],
    ["an ftp endpoint", () => ({ ...valid(), endpoint: "ftp://127.0.0.1/x" })],
    ["an endpoint with credentials", () => ({ ...valid(), endpoint: "https://user:pw@push.example.com/x" })],
    ["a short p256dh", () => ({ ...valid(), keys: { ...valid().keys, p256dh: bytes(33) } })],
    ["a compressed-point prefix", () => ({ ...valid(), keys: { ...valid().keys, p256dh: bytes(65, 2) } })],
    ["a p256dh off the curve", () => ({ ...valid(), keys: { ...valid().keys, p256dh: bytes(65) } })],
    ["a 15-byte auth", () => ({ ...valid(), keys: { ...valid().keys, auth: bytes(15) } })],
    ["an auth that is not base64", () => ({ ...valid(), keys: { ...valid().keys, auth: "not base64!!" } })],
    ["malformed JSON", () => "{\"endpoint\":"],
  ];
  it.each(cases)("%s → 400 with a message, nothing stored", async (label, body) => {
    useSession("alice");
    const before = (await listSubscriptions()).length;
    expectError(await worker.json("/api/push/subscriptions", { method: "POST", body: body() }), 400, label);
    expect((await listSubscriptions()).length).toBe(before);
  });

  it("says why a plain-http endpoint is refused", async () => {
    useSession("alice");
    const res = await worker.json<ApiErrorBody>("/api/push/subscriptions", { method: "POST", body: { ...valid(), endpoint: "http://127.0.0.1:8080/push/1" } });
    expectError(res, 400, "http endpoint");
    expect(res.body.error?.message).toMatch(/https/);
  });
});

describe("box events → pushes", () => {
  it("busy → idle sends \"done\" to both devices: decrypted by the stand-in, with a valid VAPID JWT", async () => {
    useSession("alice");
    const chat = await newChat("Fix the login bug");
    await boxEvent(worker, { type: "chat.status", chatId: chat.id, status: "busy" });
    await boxEvent(worker, { type: "chat.checkpoint", chatId: chat.id, sha: "a".repeat(40), filesChanged: 3, pushed: true });
    await boxEvent(worker, { type: "chat.status", chatId: chat.id, status: "idle" });
    const got = await waitForPushes("done", chat.id, "done", 2);
    expect(got.map((m) => m.endpoint).sort()).toEqual(devices.map((d) => d.endpoint).sort());
    for (const m of got) {
      expect(m.payload).toEqual({ kind: "done", chatId: chat.id, title: "acme/app · Fix the login bug", body: "Done · 3 files changed", url: `/chats/${chat.id}`, tag: `chat-${chat.id}` });
      expect(m).toMatchObject({ encoding: "aes128gcm", urgency: "normal", topic: chat.id, ttl: 24 * 60 * 60, jwt: { aud: push.url, sub: SUBJECT } });
      expect(m.size, "padded to one 4096-byte record, so the length tells nothing").toBe(4096);
    }
  });

  it("permission.asked sends \"needs you\" at high urgency, once while it waits", async () => {
    useSession("alice");
    const chat = await newChat("Run the tests");
    await boxEvent(worker, { type: "chat.status", chatId: chat.id, status: "busy" });
    const request = { id: "per_1", sessionID: "ses_1", permission: "bash", patterns: ["npm test"], metadata: {}, always: ["npm *"] };
    await boxEvent(worker, { type: "permission.asked", chatId: chat.id, request });
    await boxEvent(worker, { type: "permission.asked", chatId: chat.id, request });
    const got = await waitForPushes("needs-you", chat.id, "needs_you", 2);
    expect(got[0]!.payload).toMatchObject({ kind: "needs_you", body: "Needs you: permission to run `npm test`", url: `/chats/${chat.id}` });
    expect(got.every((m) => m.urgency === "high")).toBe(true);
    await drain();
    expect(pushesFor(chat.id, "needs_you")).toHaveLength(2);
  });

  it("error and interrupted are pushed with what happened; a long error is cut to a lock-screen line", async () => {
    useSession("alice");
    const failed = await newChat("Upgrade the deps");
    await boxEvent(worker, { type: "chat.status", chatId: failed.id, status: "busy" });
    await boxEvent(worker, { type: "chat.status", chatId: failed.id, status: "error", error: `Provider quota exceeded ${"x".repeat(5000)}` });
    const [error] = await waitForPushes("error", failed.id, "error", 2);
    expect(error!.payload.body).toMatch(/^Error: Provider quota exceeded x+…$/);
    expect((error!.payload.body as string).length).toBeLessThanOrEqual(240);
    expect(error!.urgency).toBe("high");

    const cut = await newChat("Long refactor");
    await boxEvent(worker, { type: "chat.status", chatId: cut.id, status: "busy" });
    await boxEvent(worker, { type: "chat.status", chatId: cut.id, status: "interrupted" });
    const [interrupted] = await waitForPushes("interrupted", cut.id, "interrupted", 2);
    expect(interrupted!.payload).toMatchObject({ title: "acme/app · Long refactor", url: `/chats/${cut.id}` });
  });

  it("a repeated idle event (a retried webhook) does not notify twice", async () => {
    useSession("alice");
    const chat = await newChat("Write the changelog");
    await boxEvent(worker, { type: "chat.status", chatId: chat.id, status: "busy" });
    await boxEvent(worker, { type: "chat.status", chatId: chat.id, status: "idle" });
    await waitForPushes("done", chat.id, "done", 2);
    await boxEvent(worker, { type: "chat.status", chatId: chat.id, status: "idle" });
    await drain();
    expect(pushesFor(chat.id)).toHaveLength(2);
  });

  it("applyBoxEvent answers a push only for the transition itself, not for its repeats", async () => {
    useSession("alice");
    const chat = await newChat("Unit-level repeats");
    type Event = { type?: string; status?: "idle" | "busy" | "error" | "interrupted"; error?: string; request?: unknown };
    const apply = (event: Event) => applyBoxEvent(worker.db, { type: "chat.status", chatId: chat.id, ...event });
    expect(await apply({ status: "busy" })).toBeUndefined();
    expect((await apply({ status: "idle" }))?.kind).toBe("done");
    expect(await apply({ status: "idle" })).toBeUndefined();
    expect(await apply({ status: "busy" })).toBeUndefined();
    expect((await apply({ status: "error", error: "boom" }))?.kind).toBe("error");
    expect(await apply({ status: "error", error: "boom" })).toBeUndefined();
    expect(await apply({ status: "idle" })).toBeUndefined(); // error → idle is no run ending
    expect((await apply({ type: "question.asked", request: { questions: [{ question: "Which branch?" }] } }))?.detail).toBe("Which branch?");
    expect(await apply({ type: "question.asked" })).toBeUndefined();
  });

  it("a muted chat sends nothing", async () => {
    useSession("alice");
    const chat = await newChat("Quiet chat");
    const muted = await worker.json(`/api/chats/${chat.id}`, { method: "PATCH", body: { muted: true } });
    expect(muted.status, muted.text).toBe(200);
    await boxEvent(worker, { type: "chat.status", chatId: chat.id, status: "busy" });
    await boxEvent(worker, { type: "permission.asked", chatId: chat.id, request: { permission: "edit", patterns: ["a.txt"] } });
    await boxEvent(worker, { type: "chat.status", chatId: chat.id, status: "idle" });
    expect(await drain(), "the devices are there and reachable").toBe(2);
    expect(pushesFor(chat.id)).toEqual([]);
    expect(push.refused).toEqual([]);
  });
});

describe("POST /api/push/test", () => {
  it("reaches every device of the user and links to the settings", async () => {
    useSession("alice");
    const before = push.received.length;
    const res = await worker.json<{ sent: number; removed: number }>("/api/push/test", { method: "POST" });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual({ sent: 2, removed: 0 });
    const tests = push.received.slice(before);
    expect(tests.map((m) => m.endpoint).sort()).toEqual(devices.map((d) => d.endpoint).sort());
    expect(tests[0]!.payload).toMatchObject({ kind: "test", url: "/settings" });
    expect(tests[0]!.payload.chatId).toBeUndefined();
  });
});

describe("other users", () => {
  it("cannot delete someone else's subscription (404) nor see it; the owner can (204)", async () => {
    useSession("alice");
    const [mine] = await listSubscriptions();
    useSession("bob");
    expectError(await worker.json(`/api/push/subscriptions/${mine!.id}`, { method: "DELETE" }), 404, "bob deletes alice's");
    expect(await listSubscriptions()).toEqual([]);
    expect((await worker.json("/api/push/test", { method: "POST" })).body).toEqual({ sent: 0, removed: 0 });
    expectError(await worker.json("/api/push/subscriptions/not-a-ulid", { method: "DELETE" }), 400, "bad id");
    useSession("alice");
    expect(await listSubscriptions()).toHaveLength(2);
    const extra = await subscribe(worker, push.subscribe(), "spare");
    expect((await worker.fetch(`/api/push/subscriptions/${extra.body.subscription.id}`, { method: "DELETE" })).status).toBe(204);
    expect(await listSubscriptions()).toHaveLength(2);
  });

  it("a push service answering 410 or 404 removes that device", async () => {
    await signIn(worker, "carol");
    const [gone, unknown, kept] = [push.subscribe(), push.subscribe(), push.subscribe()];
    for (const d of [gone, unknown, kept]) expect((await subscribe(worker, d!)).status).toBe(201);
    push.answer(gone!.endpoint, 410);
    push.answer(unknown!.endpoint, 404);
    const res = await worker.json<{ sent: number; removed: number }>("/api/push/test", { method: "POST" });
    expect(res.body).toEqual({ sent: 1, removed: 2 });
    expect(await listSubscriptions()).toHaveLength(1);
    const rows = await worker.db.select().from(pushSubscriptions).where(eq(pushSubscriptions.userId, "dev:carol"));
    expect(rows.map((r) => r.endpoint)).toEqual([kept!.endpoint]);
  });
});

describe("with a box: the list sync and pull requests", () => {
  let remote: Remote;
  let gh: GithubStandin;
  let box: BoxHarness;
  let full: TestWorker;
  let device: PushSubscriptionJson;
  let chatId = "";

  beforeAll(async () => {
    remote = await makeRemote({ owner: "acme", name: "app", files: { "README.md": "# app\n" } });
    gh = await startGithubStandin({ users: [{ id: 1001, login: "alice" }], repos: { alice: [{ full_name: "acme/app", private: false, default_branch: "main", pushed_at: new Date().toISOString() }] } });
    // No WORKER_URL: every webhook is "missed", so statuses only reach the worker through the list sync.
    box = await startTestBox({ baseUrl: remote.baseUrl });
    full = await startTestWorker({
      boxUrl: box.url,
      boxToken: TEST_TOKEN,
      outbound: push.outbound,
      bindings: { VAPID_PRIVATE_KEY: vapid.privateKey, GITHUB_CLIENT_ID: STANDIN_CLIENT_ID, GITHUB_CLIENT_SECRET: STANDIN_CLIENT_SECRET, GITHUB_API_URL: gh.url, GITHUB_OAUTH_URL: gh.url, ALLOWED_GITHUB_USERS: "alice" },
    });
    expect((await githubSignIn(full, "alice")).status).toBe(302);
    device = push.subscribe({ applicationServerKey: vapid.publicKey });
    expect((await subscribe(full, device)).status).toBe(201);
  });
  afterAll(async () => {
    await full?.dispose();
    await box?.dispose();
    await gh?.close();
    await remote?.cleanup();
  });

  it("a run that ends while the webhook is missed is pushed by the list sync, and the late webhook does not push again", async () => {
    const res = await full.json<{ chat: Chat }>("/api/chats", { method: "POST", body: { repo: "acme/app", prompt: { text: "say: all done" } } });
    expect(res.status, res.text).toBe(201);
    chatId = res.body.chat.id;
    let seen: unknown;
    await waitFor("the sync to see the run end", async () => {
      const chat = (await full.json<{ chat: Chat }>(`/api/chats/${chatId}`)).body.chat;
      seen = chat;
      return chat.sessionId && chat.status === "idle" && pushesFor(chatId, "done").length > 0 ? chat : undefined;
    }, 60_000, () => ({ seen, refused: push.refused }));
    expect(pushesFor(chatId, "done")[0]).toMatchObject({ endpoint: device.endpoint, payload: { kind: "done", body: "Done", url: `/chats/${chatId}` } });

    await boxEvent(full, { type: "chat.status", chatId, status: "idle" });
    expect((await full.json(`/api/chats/${chatId}`)).status).toBe(200);
    await drain(full);
    expect(pushesFor(chatId, "done")).toHaveLength(1);
  });

  it("POST /api/chats/:id/pr stores the PR URL, links back to the issue and pushes \"PR created\"", async () => {
    const issueUrl = "https://github.com/acme/app/issues/7";
    await full.db.update(chats).set({ issueUrl }).where(eq(chats.id, chatId));
    const res = await full.json<{ pr: { number: number; url: string } }>(`/api/chats/${chatId}/pr`, { method: "POST", body: {} });
    expect(res.status, res.text).toBe(201);
    expect(gh.pulls.at(-1)!.body).toContain(`Closes ${issueUrl}`);
    const [row] = await full.db.select({ prUrl: chats.prUrl }).from(chats).where(eq(chats.id, chatId));
    expect(row!.prUrl).toBe(res.body.pr.url);
    const [pr] = await waitForPushes("PR", chatId, "pr", 1);
    expect(pr!.payload).toMatchObject({ kind: "pr", body: `Pull request #${res.body.pr.number} opened`, url: `/chats/${chatId}`, tag: `chat-${chatId}` });
  });
});
