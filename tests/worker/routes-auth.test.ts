import { inspectRoutes } from "hono/dev";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signBody } from "../../lib/signature.ts";
import { createApp } from "../../worker/app.ts";
import { TEST_TOKEN } from "../helpers/box-harness.ts";
import { startTestWorker, type TestWorker } from "../helpers/worker-harness.ts";

type Req = { method: string; path: string; label: string };

const EVIL = "https://evil.example";
const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);
const ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"];
/** Public routes, decided one by one: a new route outside /api and /internal/box must be added here on purpose. */
const PUBLIC = new Set(["GET /auth/github", "GET /auth/github/callback", "GET /auth/dev", "POST /auth/logout", "POST /internal/boxes/register"]);
const PARAM_VALUES: Record<string, string> = { id: "01J9ZXQ4W7B2M5N8P3R6T0V1Y4", owner: "acme", name: "app", pid: "4242" };

/** The app's own route table (handlers only, not middleware); the db is never touched for the list. */
const appRoutes = (() => {
  const app = createApp({ db: () => { throw new Error("route listing only"); }, clientIp: () => undefined });
  const seen = new Map<string, { method: string; path: string }>();
  for (const r of inspectRoutes(app)) if (!r.isMiddleware) seen.set(`${r.method} ${r.path}`, { method: r.method, path: r.path });
  return [...seen.values()];
})();

const fill = (path: string) =>
  path
    .replace(/:(\w+)(\{[^}]*\})?\??/g, (_, name: string) => PARAM_VALUES[name] ?? "x1")
    .replace(/\/\*$/, "/session");

/** One concrete request per route; `ALL` routes (the opencode pass-through) get one per method. */
const requests: Req[] = appRoutes.flatMap((r) =>
  (r.method === "ALL" ? ALL_METHODS : [r.method]).map((method) => ({ method, path: fill(r.path), label: `${method} ${r.path}` })),
);
const api = requests.filter((r) => r.path.startsWith("/api/"));
const internal = requests.filter((r) => r.path.startsWith("/internal/box/"));
const stateChanging = [...api, ...requests.filter((r) => r.label === "POST /auth/logout")].filter((r) => !SAFE.has(r.method));

let worker: TestWorker;
let session = "";

async function send(req: Req, headers: Record<string, string> = {}, body?: string) {
  const hasBody = !SAFE.has(req.method);
  return fetch(worker.url + req.path, {
    method: req.method,
    redirect: "manual",
    headers: { ...(hasBody ? { "content-type": "application/json" } : {}), ...headers },
    body: hasBody ? (body ?? "{}") : undefined,
    signal: AbortSignal.timeout(15_000),
  });
}

async function expectApiError(res: Response, status: number, label: string) {
  const text = await res.text();
  expect(res.status, `${label}: ${text}`).toBe(status);
  expect(res.headers.get("content-type"), label).toContain("application/json");
  const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
  expect(typeof body.error?.code, `${label}: ${text}`).toBe("string");
  expect(body.error?.code, label).not.toBe("");
  expect(typeof body.error?.message, `${label}: ${text}`).toBe("string");
  expect((body.error!.message as string).trim(), label).not.toBe("");
}

beforeAll(async () => {
  // A dead box: every check here must answer before the box would ever be called.
  worker = await startTestWorker({ boxUrl: "http://127.0.0.1:9", boxToken: TEST_TOKEN, bindings: { DEV_LOGIN: "1" } });
  await worker.signInDev("routes-auth");
  session = worker.jar.get("ocweb_session") ?? "";
  worker.jar.clear();
});
afterAll(async () => {
  await worker?.dispose();
});

describe("the route table", () => {
  it("comes from the app itself and every route is either /api, /internal/box or a known public route", () => {
    expect(appRoutes.length).toBeGreaterThan(20);
    expect(appRoutes.map((r) => `${r.method} ${r.path}`)).toEqual(expect.arrayContaining(["GET /api/me", "POST /api/chats", "ALL /api/box/oc/*", "POST /internal/box/events"]));
    const stray = appRoutes.filter((r) => !r.path.startsWith("/api/") && !r.path.startsWith("/internal/box/") && !PUBLIC.has(`${r.method} ${r.path}`));
    expect(stray).toEqual([]);
    expect(api.length + internal.length + appRoutes.filter((r) => PUBLIC.has(`${r.method} ${r.path}`)).length).toBe(requests.length);
    expect(session).toMatch(/^[A-Za-z0-9_-]{20,}$/);
  });
});

describe("every /api route without a session", () => {
  it.each(api.map((r) => [r.label, r] as const))("%s → 401", async (label, req) => {
    await expectApiError(await send(req, { origin: worker.url }), 401, label);
  });
});

describe("every /api route with a forged or revoked session", () => {
  it.each(api.map((r) => [r.label, r] as const))("%s → 401", async (label, req) => {
    const forged = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url");
    await expectApiError(await send(req, { origin: worker.url, cookie: `ocweb_session=${forged}` }), 401, `${label} (forged)`);
    await expectApiError(await send(req, { origin: worker.url, cookie: `ocweb_session=${"A".repeat(200)}` }), 401, `${label} (oversized)`);
  });

  it("a signed-out session is refused everywhere, and the right one still works", async () => {
    await worker.signInDev("routes-auth-out");
    const old = worker.jar.get("ocweb_session")!;
    expect((await worker.fetch("/auth/logout", { method: "POST" })).status).toBe(204);
    for (const req of api) await expectApiError(await send(req, { origin: worker.url, cookie: `ocweb_session=${old}` }), 401, `${req.label} (revoked)`);
    expect((await send({ method: "GET", path: "/api/me", label: "me" }, { cookie: `ocweb_session=${session}` })).status).toBe(200);
  });
});

describe("every state-changing route with a session but no same-origin Origin", () => {
  it("covers POST, PATCH, DELETE and the pass-through", () => {
    expect(new Set(stateChanging.map((r) => r.method))).toEqual(new Set(["POST", "PUT", "PATCH", "DELETE"]));
    expect(stateChanging.length).toBeGreaterThan(10);
  });

  it.each(stateChanging.map((r) => [r.label, r] as const))("%s → 403", async (label, req) => {
    const cookie = `ocweb_session=${session}`;
    await expectApiError(await send(req, { cookie, origin: EVIL }), 403, `${label} (evil origin)`);
    await expectApiError(await send(req, { cookie, origin: "null" }), 403, `${label} (null origin)`);
    await expectApiError(await send(req, { cookie }), 403, `${label} (no origin)`);
    await expectApiError(await send(req, { cookie, origin: worker.url.replace("http:", "https:") }), 403, `${label} (other scheme)`);
  });

  it("a cross-site logout did not sign the user out", async () => {
    const me = await send({ method: "GET", path: "/api/me", label: "me" }, { cookie: `ocweb_session=${session}` });
    expect(me.status).toBe(200);
    expect(((await me.json()) as { user: { login: string } }).user.login).toBe("routes-auth");
  });
});

describe("every /internal/box route without a valid signature", () => {
  const body = JSON.stringify({ type: "chat.status", chatId: PARAM_VALUES.id, status: "idle" });

  it.each(internal.map((r) => [r.label, r] as const))("%s → 401", async (label, req) => {
    // Signed when sent, not when listed, and a minute outside the 300 s window: under load seconds can
    // pass between signing and checking, and a "301 s ahead" signature arrived as 300 s, inside it.
    const now = () => Math.floor(Date.now() / 1000);
    const signed = async (key: string, text: string, at?: number) => ({ "x-ocweb-signature": await signBody(key, text, at) });
    const cases: Array<[string, () => Promise<Record<string, string>>]> = [
      ["unsigned", async () => ({})],
      ["garbage", async () => ({ "x-ocweb-signature": "t=1,v1=zz" })],
      ["wrong key", () => signed("not-the-box-token-not-the-box-token", body)],
      ["stale", () => signed(TEST_TOKEN, body, now() - 360)],
      ["future", () => signed(TEST_TOKEN, body, now() + 360)],
      ["other body", () => signed(TEST_TOKEN, `${body} `)],
      ["session, no signature", async () => ({ cookie: `ocweb_session=${session}`, origin: worker.url })],
    ];
    for (const [name, headers] of cases) await expectApiError(await send(req, await headers(), body), 401, `${label} (${name})`);
  });

  it("the key is really set: a correctly signed call gets through", async () => {
    const req = internal.find((r) => r.label === "POST /internal/box/events")!;
    const res = await send(req, { "x-ocweb-signature": await signBody(TEST_TOKEN, body) }, body);
    expect(res.status).toBe(204);
  });
});
