import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";
import { MAX_ATTACHMENT_BYTES } from "../../lib/prompt-input.ts";
import { makeRemote, type Remote } from "../helpers/git-fixture.ts";
import { newChatId, startTestBox, type BoxHarness } from "../helpers/box-harness.ts";
import { enc, objectOf, ocPath, ocQuery, requestArb, type FuzzContext, type FuzzRequest, type Route } from "./arbitraries.ts";
import { endpoints, fuzzRoute, newTally, problems, readAnswer, runsFrom, SEED, seedFor, share, summary, type CheckOptions } from "./fuzz-run.ts";
import { OPENCODE_KNOWN } from "./known.ts";
import { harmlessPid, readOnlyOnRealChats } from "./safety.ts";
import { oddDataEntries, snapshot, strayFiles, type Snapshot } from "./stray-files.ts";

const MB = 1024 * 1024;
const BAD_TOKEN = "Bearer wrong-token-wrong-token-wrong-token";
let remote: Remote;
let box: BoxHarness;
let before: Snapshot;
let fixture: { chatId: string; worktree: string; sessionId: string; sha: string; baseCommit: string };
const spareChats = [newChatId(), newChatId(), newChatId()];
const tally = newTally();

const send = async (req: FuzzRequest) => {
  const headers = { authorization: `Bearer ${box.box.services.token}`, ...req.headers };
  const url = `http://box.test${req.path}${req.query ? `?${req.query}` : ""}`;
  return readAnswer(await box.box.app.request(url, { method: req.method, headers, body: req.body }));
};
const checks = (): CheckOptions => ({
  secrets: [box.box.services.token, box.box.supervisor.password],
  paths: [box.dataDir, remote.root, process.cwd(), "node_modules"],
  foreign4xx: (route) => route.path.startsWith("/oc"), // opencode's own 4xx, passed through as it answered
  known: OPENCODE_KNOWN,
});

function context(): FuzzContext {
  const layout = box.box.services.layout;
  const chatIds = [fixture.chatId, ...spareChats];
  const worktrees = chatIds.map((id) => layout.worktree("acme/app", id));
  const directory = fc.oneof(
    { weight: 4, arbitrary: fc.constant(fixture.worktree) },
    { weight: 3, arbitrary: fc.constantFrom(...worktrees, `${fixture.worktree}/`, `${fixture.worktree}/..`, `${fixture.worktree}/../..`) },
    { weight: 2, arbitrary: fc.constantFrom(box.dataDir, layout.worktreesDir, layout.reposDir, "/", "/etc", remote.root, "relative/dir") },
  );
  // Creates only ever use these ids: at most four chats (and worktrees) come of the fuzzing.
  const knownChatId = fc.oneof({ weight: 3, arbitrary: fc.constant(fixture.chatId) }, { weight: 2, arbitrary: fc.constantFrom(...spareChats) });
  const chatId = fc.oneof({ weight: 4, arbitrary: knownChatId }, { weight: 1, arbitrary: fc.ulid() });
  const text = fc.constantFrom("say: fuzz ok", "say: ünïcödé 🚀 ok", "say: nul \u0000 ok");
  const file = objectOf({ mime: fc.constantFrom("text/plain", "image/png"), url: fc.constantFrom("data:text/plain;base64,aGk=", "data:image/png;base64,iVBORw0KGgo="), filename: fc.constantFrom("a.txt", "ünï.png") }, 0.9);
  return {
    fields: {
      chatId: knownChatId,
      repo: fc.constantFrom("acme/app", "acme/app", "ghost/none"),
      base: fc.constantFrom("main", "dev", "no-such-branch"),
      fromCommit: fc.oneof(fc.constant(fixture.sha), fc.constant(fixture.baseCommit), fc.stringMatching(/^[0-9a-f]{40}$/)),
      promptId: fc.constantFrom(...Array.from({ length: 10 }, (_, i) => `fuzz-${i}`)),
      text,
      model: fc.constantFrom("ocweb-demo/scripted", "nope/none"),
      agent: fc.constantFrom("build", "plan", "no-such-agent"),
      files: fc.array(file, { maxLength: 3 }),
      archived: fc.boolean(),
      dryRun: fc.constant(true),
    },
    params: { chatId: chatId.map(String), owner: fc.constantFrom("acme", "ghost"), name: fc.constantFrom("app", "none"), pid: fc.constantFrom(String(process.pid), "4194304") },
    query: { directory, ...ocQuery },
    wildcard: ocPath(fc.oneof({ weight: 3, arbitrary: fc.constant(fixture.sessionId) }, { weight: 1, arbitrary: fc.constantFrom("ses_0000zzzz", "find", "status") })),
    headers: fc.oneof(
      { weight: 12, arbitrary: fc.constant({}) },
      { weight: 6, arbitrary: directory.map((d) => ({ "x-opencode-directory": enc(d) })) },
      { weight: 1, arbitrary: fc.constant({ accept: "text/event-stream" }) },
      { weight: 1, arbitrary: fc.constantFrom({ authorization: BAD_TOKEN }, { authorization: "Basic b3BlbmNvZGU6eA==" }, { authorization: "Bearer " }) },
    ),
    safe: (req, route) => readOnlyOnRealChats(harmlessPid(req), route, [box.dataDir, fixture.sessionId, "ses_"]),
  };
}

beforeAll(async () => {
  before = snapshot();
  remote = await makeRemote({ owner: "acme", name: "app", extraBranches: ["dev"] });
  box = await startTestBox({ baseUrl: remote.baseUrl });
  const chatId = newChatId();
  const made = (await box.call("POST", "/mgmt/chats", { chatId, repo: "acme/app" })).json as { worktree: string; sessionId: string; baseCommit: string };
  await box.call("POST", `/mgmt/chats/${chatId}/prompts`, { promptId: "fixture", text: "write fuzz.txt: hi\nsay: done" });
  await box.waitForChat(chatId, (c) => c.status === "idle" && (c.queuedPrompts as string[]).length === 0);
  await box.call("POST", `/mgmt/chats/${chatId}/checkpoint`);
  const { checkpoints } = (await box.call("GET", `/mgmt/chats/${chatId}/checkpoints`)).json as { checkpoints: Array<{ sha: string }> };
  fixture = { chatId, ...made, sha: checkpoints[0]!.sha };
}, 120_000);
afterAll(async () => {
  await box?.dispose();
  await remote?.cleanup();
});

describe("box: fuzzed requests to every route", () => {
  it("answers every generated request with a 2xx or a 4xx carrying a message, never a 5xx, a stack or a secret", async () => {
    onTestFailed(() => console.log(`box log, last 80 lines (opencode's warnings and errors included):\n${box.lines.slice(-80).join("\n")}`));
    // Deleting routes go last, so the fixture chat stays for the rest.
    const routes = endpoints(box.box.app).sort((a, b) => Number(a.method === "DELETE") - Number(b.method === "DELETE"));
    expect(routes.length).toBeGreaterThan(process.env.FUZZ_ROUTE ? 0 : 15);
    const ctx = context();
    const runs = share(routes, runsFrom(6_000));
    for (const route of routes) {
      await fuzzRoute(route, requestArb(ctx, route), send, { ...checks(), runs: runs.get(route)!, seed: seedFor(SEED, route), tally });
    }
    console.log(summary("box", tally, routes.length));
    expect(tally.failures).toEqual([]);
    expect(tally.fiveXx).toBe(0);
  }, 600_000);

  it("bodies just over each limit are refused with 413 (64 KB management, 25 MB prompts and /oc), attachments over the limit with 400, at the limit taken", async () => {
    const routes = endpoints(box.box.app).filter((r) => r.method !== "GET" && !r.path.startsWith("/oc"));
    const fill = (route: Route) => route.path.replace(":chatId", fixture.chatId).replace(":owner", "acme").replace(":name", "app").replace(":pid", "4194304");
    const cases: Array<[FuzzRequest, Route, number]> = routes.map((route) => {
      const limit = route.path.endsWith("/prompts") ? 25 * MB : 64 * 1024;
      return [{ method: route.method, path: fill(route), query: "", headers: { "content-type": "application/json" }, body: `{"text":"${"a".repeat(limit)}"}` }, route, 413];
    });
    const oc: Route = { method: "ALL", path: "/oc/*" };
    cases.push([{ method: "POST", path: "/oc/session", query: "", headers: { "content-type": "application/json" }, body: "a".repeat(25 * MB + 1) }, oc, 413]);
    const files = [{ mime: "text/plain", url: `data:text/plain;base64,${"A".repeat(MAX_ATTACHMENT_BYTES - 20)}` }];
    const overAttached = JSON.stringify({ promptId: "fuzz-big", text: "say: too big", files });
    const prompts = routes.find((r) => r.path.endsWith("/prompts"))!;
    cases.push([{ method: "POST", path: `/mgmt/chats/${fixture.chatId}/prompts`, query: "", headers: { "content-type": "application/json" }, body: overAttached }, prompts, 400]);
    const atLimit = JSON.stringify({ promptId: "fuzz-at-limit", text: "say: big", files: [{ mime: "text/plain", url: `data:text/plain;base64,${"A".repeat(MAX_ATTACHMENT_BYTES - 23)}` }] });
    const fresh = newChatId(); // the fuzzing may have deleted the fixture chat
    await box.call("POST", "/mgmt/chats", { chatId: fresh, repo: "acme/app" });
    cases.push([{ method: "POST", path: `/mgmt/chats/${fresh}/prompts`, query: "", headers: { "content-type": "application/json" }, body: atLimit }, prompts, 202]);
    for (const [req, route, status] of cases) {
      const res = await send(req);
      expect(problems(route, req, res, checks()), `${req.method} ${req.path}`).toEqual([]);
      expect(res.status, `${req.method} ${req.path}: ${res.text.slice(0, 200)}`).toBe(status);
    }
  }, 120_000);

  it("stays up and writes nothing outside its data dir", async () => {
    expect((await send({ method: "GET", path: "/healthz", query: "", headers: {} })).text).toContain('"up":true');
    expect(box.lines.filter((l) => /^error on |^5\d\d on |opencode exited/.test(l))).toEqual([]);
    expect(oddDataEntries(box.dataDir)).toEqual([]);
    expect(strayFiles(before)).toEqual([]);
  });
});
