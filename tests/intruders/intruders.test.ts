import type { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signBody } from "../../lib/signature.ts";
import { TEST_TOKEN } from "../helpers/box-harness.ts";
import { apiRequests, badSessions, crossSite, malloryOnVictims, malloryOwnViews, noSession, victimRoutes, type Ctx } from "./api-cases.ts";
import { authDoors, boxBearer, registrations, webhooks } from "./door-cases.ts";
import { send } from "./http.ts";
import { Ledger } from "./ledger.ts";
import { boxOc, strippedParams } from "./oc-box-cases.ts";
import { malloryOcSweep, opencodeRoutes } from "./oc-doc-cases.ts";
import { malloryOc } from "./oc-worker-cases.ts";
import { fillPath, namesVictim, routesOf, workerRoutes } from "./routes.ts";
import { findSecrets, opencodeLogFiles } from "./secrets.ts";
import { PUSH_ORIGIN, startIntruderStack, type IntruderStack } from "./stack.ts";
import { settled, watched } from "./state.ts";
import { makeVictims, type Victims } from "./victims.ts";

/** Routes outside /api and /internal, each decided on purpose (and tried in "the /auth doors"). */
const PUBLIC = ["GET /auth/github", "GET /auth/github/callback", "GET /auth/dev", "POST /auth/logout"];

let stack: IntruderStack;
let v: Victims;
let ctx: Ctx;
const ledger = new Ledger(() => v?.markers ?? []);

beforeAll(async () => {
  stack = await startIntruderStack();
  v = await makeVictims(stack, ledger);
  ctx = { stack, ledger, v };
  await settled(stack, v.victim);
}, 240_000);
afterAll(async () => {
  console.log(ledger.summary());
  await stack?.dispose();
});

/** One group of attempts: nothing accepted, each refusal the documented one, no state changed. */
const phase = (name: string, run: (ctx: Ctx, phase: string) => Promise<unknown>) =>
  it(name, async () => {
    await watched(stack, v.victim, (detail) => ledger.flag(name, "state", detail), async () => void (await run(ctx, name)));
    const found = ledger.of(name);
    expect(found.accepted).toEqual([]);
    expect(found.wrongStatus).toEqual([]);
  }, 300_000);

describe("the doors, from the apps' own route tables", () => {
  it("every worker route is /api, /internal or a known public one, and every path parameter has a victim's value", () => {
    const routes = workerRoutes();
    const names = routes.map((r) => `${r.method} ${r.path}`);
    expect(names).toEqual(expect.arrayContaining(["GET /api/me", "ALL /api/box/oc/*", "POST /internal/box/events", "POST /api/chats/:id/prompts"]));
    expect(names.filter((n) => !/^\w+ \/(api|internal)\//.test(n) && !PUBLIC.includes(n))).toEqual([]);
    for (const r of routes.filter((r) => !r.path.endsWith("/*"))) expect(fillPath(r, v.victim), `${r.method} ${r.path}`).not.toMatch(/:\w/);
    expect(apiRequests(v).length).toBeGreaterThan(40);
    const targets = victimRoutes(v).map((r) => `${r.method} ${r.path}`);
    const kinds = ["/api/chats/:id", "/api/schedules/:id", "/api/push/subscriptions/:id", "/api/boxes/:id", "/api/box/disk", "/api/box/gc", "POST /api/chats"];
    for (const kind of kinds) expect(targets.some((t) => t.includes(kind)), kind).toBe(true);
    expect(routesOf(stack.box.box.app as unknown as Hono).length).toBeGreaterThan(15);
  });

  it("alice reaches each of her resources by those ids (so mallory's 404s are real refusals)", async () => {
    const own = workerRoutes().filter((r) => r.method === "GET" && namesVictim(r));
    for (const r of own) {
      const res = await v.alice(fillPath(r, v.victim));
      expect(res.status, `GET ${r.path}`).toBe(200);
    }
    const transcript = await v.alice<unknown>(`/api/box/oc/session/${v.victim.sessionId}/message`);
    expect(transcript.status).toBe(200);
    expect(JSON.stringify(transcript.body)).toContain("ALICE-REPLY-WORDS");
    expect((await v.mallory(`/api/box/oc/session/${v.own.sessionId}/message`)).status).toBe(200);
    const hook = JSON.stringify({ type: "chat.status", chatId: v.missing.chat, status: "idle" });
    const signed = await send({ method: "POST", url: `${stack.worker.url}/internal/box/events`, headers: { "x-ocweb-signature": await signBody(TEST_TOKEN, hook) }, body: hook });
    expect(signed.status).toBe(204);
  });
});

describe("the checks can fail", () => {
  it("the state watch sees a change (alice renaming her own chat)", async () => {
    const seen: string[] = [];
    await watched(stack, v.victim, (d) => seen.push(d), async () => {
      expect((await v.alice(`/api/chats/${v.victim.chat}`, { method: "PATCH", body: { title: "renamed by alice" } })).status).toBe(200);
    });
    expect(seen.join("\n")).toContain("renamed by alice");
  });
});

describe("intruders", () => {
  phase("no session: every /api route → 401", noSession);
  phase("forged, expired, revoked or tampered sessions → 401", badSessions);
  phase("mallory on alice's chat, schedule, push subscription and box → the answer for a missing id", malloryOnVictims);
  phase("mallory's own lists carry nothing of alice's", malloryOwnViews);
  phase("a cross-site Origin, or none, on every state-changing request → 403", crossSite);
  phase("webhooks with no, forged, stale or replayed signatures → 401; another box's events → 403", webhooks);
  phase("box registration only with a fresh key", registrations);
  phase("/auth/dev only from loopback and never as a GitHub user; no forged OAuth", authDoors);
  phase("the box without its bearer, or with a wrong one → 401", boxBearer);
  phase("the box's /oc: foreign directories, refused routes in every spelling, crossed sessions", boxOc);
  phase("mallory through /api/box/oc gets nothing of alice's and none of the refused routes", malloryOc);

  phase("every opencode route (from its own /doc) as mallory: alice's session 404, nothing of hers", async (c, name) => {
    const routes = await opencodeRoutes(c);
    expect(routes.length).toBeGreaterThan(100);
    // A write that answers 2xx acts on her own worktree; a new one is decided on here, on purpose.
    expect(await malloryOcSweep(c, name, routes)).toEqual(["POST /session → 200"]);
  });

  it("the box strips workspace, auth_token, scope and location[…] before opencode", async () => {
    expect(await strippedParams(ctx)).toEqual([]);
  });
});

describe("secrets", () => {
  it("no token, password or key in any answer, GitHub error, or worker, box or opencode log line", async () => {
    const secrets = [...stack.secrets(), { name: "alice's push endpoint (a bearer capability)", value: v.victim.endpoint }];
    expect(secrets.filter((s) => s.name.startsWith("GitHub token")).length).toBeGreaterThan(0);
    stack.github.rateLimitNext();
    for (const route of ["/api/repos", "/api/repos/acme/app/branches"]) await v.alice(route);
    stack.github.revokeTokens();
    for (const route of ["/api/repos", "/api/repos/acme/app/issues"]) await v.alice(route);
    expect((await v.alice("/api/push/test", { method: "POST" })).status).toBe(200);
    expect(stack.logs.some((l) => l.includes(`push to ${PUSH_ORIGIN} answered 429`))).toBe(true);
    expect(stack.box.lines.some((l) => l.startsWith("[opencode]"))).toBe(true);
    expect(findSecrets([{ where: "a planted line", text: `x ${TEST_TOKEN} y` }], secrets)).toHaveLength(1);
    const texts = [
      ...ledger.answers,
      ...stack.logs.map((text) => ({ where: "worker/test console", text })),
      ...stack.box.lines.map((text) => ({ where: "box log", text })),
      ...opencodeLogFiles(stack.box.dataDir),
    ];
    expect(findSecrets(texts, secrets)).toEqual([]);
  });
});

describe("the count", () => {
  it("nothing accepted (the count is printed after the run)", () => {
    expect(ledger.attempts).toBeGreaterThan(400);
    expect(ledger.accepted.map((f) => `${f.phase} / ${f.label}: ${f.detail}`)).toEqual([]);
  });
});
