import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_ATTACHMENT_BYTES } from "../../lib/prompt-input.ts";
import { createApp } from "../../worker/app.ts";
import { enc, objectOf, ocPath, ocQuery, requestArb, type FuzzContext, type FuzzRequest, type Route } from "./arbitraries.ts";
import { endpoints, fuzzRoute, newTally, problems, runsFrom, SEED, seedFor, share, summary, type CheckOptions, type Known } from "./fuzz-run.ts";
import { OPENCODE_KNOWN } from "./known.ts";
import { harmlessPid, readOnlyOnRealChats, withinUrlLimit } from "./safety.ts";
import { oddDataEntries, snapshot, strayFiles, type Snapshot } from "./stray-files.ts";
import { SIGN_MARK, startStack, type Fixture, type Stack } from "./worker-stack.ts";

let stack: Stack;
let fx: Fixture;
let before: Snapshot;
const tally = newTally();
/** The same app the bundle runs in workerd, built here only to read its route table. */
const workerApp = createApp({ db: () => { throw new Error("routes only"); }, clientIp: () => undefined });

/** Reported (see the fuzzing report); the fix is in worker/box/client.ts, which this suite's author may not edit. */
const KNOWN: Known[] = [
  {
    what: "503 box_unavailable for a box that was added but never registered (GET /api/box/*?box=<id>): should be a 409",
    matches: (_route, _req, res) => res.status === 503 && res.text.includes("has not registered yet"),
  },
];

const checks = (): CheckOptions => ({
  secrets: stack.secrets(),
  paths: [stack.box.dataDir, stack.remote.root, process.cwd(), "node_modules"],
  foreign4xx: (route) => route.path.startsWith("/api/box/oc"), // opencode's own 4xx, passed through as it answered
  known: [...KNOWN, ...OPENCODE_KNOWN],
});

function context(): FuzzContext {
  const ids = [fx.chat.id, fx.otherUsersChat, fx.scheduleId, fx.subscriptionId, fx.pendingBoxId];
  const id = fc.oneof({ weight: 4, arbitrary: fc.constant(fx.chat.id) }, { weight: 3, arbitrary: fc.constantFrom(...ids) }, { weight: 1, arbitrary: fc.ulid() });
  const boxId = fc.oneof({ weight: 4, arbitrary: fc.constant("env") }, { weight: 1, arbitrary: fc.constantFrom(fx.pendingBoxId) }, { weight: 1, arbitrary: fc.ulid() });
  const model = fc.constantFrom("ocweb-demo/scripted", "nope/none");
  const text = fc.constantFrom("say: fuzz ok", "say: ünïcödé 🚀 ok", "say: nul \u0000 ok");
  const promptId = fc.constantFrom(...Array.from({ length: 10 }, (_, i) => `wfuzz-${i}`));
  const file = objectOf({ mime: fc.constantFrom("text/plain", "image/png"), url: fc.constantFrom("data:text/plain;base64,aGk=", "data:image/png;base64,iVBORw0KGgo="), filename: fc.constantFrom("a.txt", "ünï.png") }, 0.9);
  const files = fc.array(file, { maxLength: 3 });
  const directory = fc.oneof(
    { weight: 4, arbitrary: fc.constant(fx.chat.directory) },
    { weight: 2, arbitrary: fc.constantFrom(`${fx.chat.directory}/`, `${fx.chat.directory}/..`, stack.box.dataDir, "/", "/etc", "relative") },
  );
  return {
    fields: {
      repo: fc.constantFrom("acme/app", "ghost/none", "ghost/none"),
      base: fc.constantFrom("main", "dev", "no-such-branch"),
      model,
      prompt: fc.oneof(objectOf({ promptId, text, files }, 0.8), text),
      attempts: fc.constantFrom(1, 2),
      models: fc.array(fc.option(model, { nil: null }), { maxLength: 2 }),
      issue: objectOf({ number: fc.constantFrom(1, 7), url: fc.constantFrom("https://github.com/acme/app/issues/1", "https://github.com/acme/app/issues/7") }, 0.9),
      boxId,
      box: fc.oneof(boxId, objectOf({ url: fc.constantFrom("https://box.fuzz.test", "http://127.0.0.1:9"), version: fc.constant("0.1.0") }, 0.8)),
      promptId,
      text,
      files,
      title: fc.constantFrom("Fuzz title", "ünï 🚀"),
      archived: fc.boolean(),
      muted: fc.boolean(),
      draft: fc.boolean(),
      body: fc.constant("PR body"),
      sha: fc.oneof(fc.constant(fx.sha), fc.stringMatching(/^[0-9a-f]{40}$/)),
      name: fc.constantFrom("fuzz box", "ünï box"),
      key: fc.string({ minLength: 16, maxLength: 40 }),
      url: fc.constantFrom("https://box.fuzz.test", "http://127.0.0.1:9"),
      endpoint: fc.constantFrom("https://push.fuzz.test/ep/1", "https://push.fuzz.test/ep/2"),
      keys: objectOf({ p256dh: fc.constant(fx.p256dh), auth: fc.constant(fx.auth) }, 0.9),
      cron: fc.constantFrom("*/5 * * * *", "0 9 * * 1-5"),
      reuse: fc.boolean(),
      paused: fc.boolean(),
      dryRun: fc.constant(true),
      // box → worker webhooks
      type: fc.constantFrom("chat.status", "chat.checkpoint", "permission.asked", "question.asked", "prompt.sent", "chat.setup"),
      chatId: fc.constantFrom(fx.chat.id, fx.otherUsersChat),
      status: fc.constantFrom("idle", "error", "interrupted"),
      error: fc.constant("fuzzed failure"),
      filesChanged: fc.nat(10),
      pushed: fc.boolean(),
      at: fc.integer({ min: 1_700_000_000_000, max: 1_900_000_000_000 }),
      usage: objectOf({ cost: fc.double({ min: 0, max: 1, noNaN: true }), tokensIn: fc.nat(), tokensOut: fc.nat() }, 0.9),
    },
    params: { id: id.map(String), owner: fc.constantFrom("acme", "ghost"), name: fc.constantFrom("app", "none"), pid: fc.constantFrom(String(process.pid), "4194304") },
    query: {
      status: fc.constantFrom("idle", "busy", "needs_you"), repo: fc.constant("acme/app"), archived: fc.constantFrom("true", "false"), group: fc.ulid(),
      q: fc.constant("app"), page: fc.constantFrom("1", "2"), days: fc.constantFrom("1", "7", "90"), box: boxId, login: fc.constant("fuzzer2"),
      code: fc.constant("c"), state: fc.constant("s"), error: fc.constant("access_denied"), directory, ...ocQuery,
    },
    wildcard: ocPath(fc.constant(fx.chat.sessionId)),
    // Most webhooks are signed, so their bodies get read; the mark means nothing on other routes.
    headers: fc.tuple(fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }), fc.oneof<Array<fc.WeightedArbitrary<Record<string, string>>>>(
      { weight: 10, arbitrary: fc.constant({}) },
      { weight: 4, arbitrary: directory.map((d) => ({ "x-opencode-directory": enc(d) })) },
      { weight: 1, arbitrary: fc.constantFrom<Record<string, string>>({ origin: "https://evil.example" }, { cookie: "ocweb_session=forged" }, { cookie: `ocweb_session=${"x".repeat(200)}` }, { "x-ocweb-box": fx.pendingBoxId }) },
    )).map(([sign, h]) => (sign ? { ...h, [SIGN_MARK]: "1" } : h)),
    safe: (req, route) => readOnlyOnRealChats(harmlessPid(withinUrlLimit(req)), route, [fx.chat.directory, fx.chat.sessionId, "ses_"]),
  };
}

beforeAll(async () => {
  before = snapshot();
  stack = await startStack();
  fx = await stack.fixture();
}, 180_000);
afterAll(async () => {
  await stack?.dispose();
});

describe("worker: fuzzed requests to every route", () => {
  it("answers every generated request with a 2xx or a 4xx carrying a message, never a 5xx (503 included), a stack or a secret", async () => {
    const routes = endpoints(workerApp).sort((a, b) => Number(a.method === "DELETE") - Number(b.method === "DELETE"));
    expect(routes.length).toBeGreaterThan(process.env.FUZZ_ROUTE ? 0 : 40);
    const ctx = context();
    const runs = share(routes, runsFrom(4_500));
    for (const route of routes) {
      await fuzzRoute(route, requestArb(ctx, route), stack.send, { ...checks(), runs: runs.get(route)!, seed: seedFor(SEED, route), tally });
    }
    console.log(summary("worker", tally, routes.length));
    expect(tally.failures).toEqual([]);
    expect(tally.fiveXx).toBe(0);
  }, 600_000);

  it("refuses a webhook just over 256 KB with 413 and attachments over the limit with 400, and reads a 30 MB body without falling over", async () => {
    const json = { "content-type": "application/json" };
    const hook = `{"type":"x","pad":"${"a".repeat(256 * 1024)}"}`;
    const files = [{ mime: "text/plain", url: `data:text/plain;base64,${"A".repeat(MAX_ATTACHMENT_BYTES - 20)}` }];
    const cases: Array<[FuzzRequest, number]> = [
      [{ method: "POST", path: "/internal/box/events", query: "", headers: { ...json, [SIGN_MARK]: "1" }, body: hook }, 413],
      [{ method: "POST", path: "/internal/box/hello", query: "", headers: { ...json, [SIGN_MARK]: "1" }, body: hook }, 413],
      [{ method: "POST", path: `/api/chats/${fx.chat.id}/prompts`, query: "", headers: json, body: JSON.stringify({ text: "say: too big", files }) }, 400],
      [{ method: "POST", path: "/api/chats", query: "", headers: json, body: JSON.stringify({ repo: "acme/app", prompt: { text: "a".repeat(30 * 1024 * 1024) } }) }, 400],
    ];
    const route: Route = { method: "POST", path: "/" };
    for (const [req, status] of cases) {
      const res = await stack.send(req);
      expect(problems(route, req, res, checks()), `${req.method} ${req.path}`).toEqual([]);
      expect(res.status, `${req.method} ${req.path}: ${res.text.slice(0, 200)}`).toBe(status);
    }
  }, 180_000);

  // libsql refuses a value of about 5 MB (SQLITE_TOOBIG): the limit must keep a prompt row under it.
  it("takes a prompt whose attachments are exactly at the limit lib/prompt-input.ts allows", async () => {
    // A chat of its own: the fuzzing before may have deleted the fixture's.
    const made = await stack.send({ method: "POST", path: "/api/chats", query: "", headers: { "content-type": "application/json" }, body: JSON.stringify({ repo: "ghost/none" }) });
    const chatId = (JSON.parse(made.text) as { chat: { id: string } }).chat.id;
    const url = `data:text/plain;base64,${"A".repeat(MAX_ATTACHMENT_BYTES - 23)}`;
    const req: FuzzRequest = { method: "POST", path: `/api/chats/${chatId}/prompts`, query: "", headers: { "content-type": "application/json" }, body: JSON.stringify({ text: "say: big", files: [{ mime: "text/plain", url }] }) };
    const res = await stack.send(req);
    expect(res.status, res.text.slice(0, 200)).toBe(202);
  }, 120_000);

  // libsql refuses an answer over 10 MB (RESPONSE_TOO_LARGE): the list must not read the attachments.
  it("lists a chat's prompts after three prompts with 3.5 MB of attachments each", async () => {
    const json = { "content-type": "application/json" };
    const made = await stack.send({ method: "POST", path: "/api/chats", query: "", headers: json, body: JSON.stringify({ repo: "ghost/none" }) });
    const chatId = (JSON.parse(made.text) as { chat: { id: string } }).chat.id;
    const url = `data:image/png;base64,${"A".repeat(3_500_000)}`;
    for (let i = 0; i < 3; i++) {
      const sent = await stack.send({ method: "POST", path: `/api/chats/${chatId}/prompts`, query: "", headers: json, body: JSON.stringify({ text: `say: ${i}`, files: [{ mime: "image/png", url }] }) });
      expect(sent.status, sent.text.slice(0, 200)).toBe(202);
    }
    const list = await stack.send({ method: "GET", path: `/api/chats/${chatId}/prompts`, query: "", headers: {} });
    expect(list.status, list.text.slice(0, 200)).toBe(200);
  }, 120_000);

  it("stays up, and nothing was written outside the box's data dir", async () => {
    const me = await stack.send({ method: "GET", path: "/api/me", query: "", headers: {} });
    expect(me.status).toBe(200);
    expect(stack.box.lines.filter((l) => /^error on |^5\d\d on |opencode exited/.test(l))).toEqual([]);
    expect(oddDataEntries(stack.box.dataDir)).toEqual([]);
    expect(strayFiles(before)).toEqual([]);
  });
});
