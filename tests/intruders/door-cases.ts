import { randomBytes } from "node:crypto";
import type { Hono } from "hono";
import { signBody } from "../../lib/signature.ts";
import { TEST_TOKEN } from "../helpers/box-harness.ts";
import type { Ctx } from "./api-cases.ts";
import { expand, routesOf, workerRoutes } from "./routes.ts";

const json = { "content-type": "application/json" };
const now = () => Math.floor(Date.now() / 1000);

/**
 * /internal/box/*: unsigned, garbage, wrong keys (other secrets, another box's token), stale, future,
 * a signature replayed over another body, upper-case hex, a box id that is not the signer's, and a
 * session instead: 401. Mallory's own registered box signing an event about alice's chat: 403.
 */
export async function webhooks(ctx: Ctx, phase: string) {
  const { v, stack } = ctx;
  const hostile = v.hostileBox;
  const paths = workerRoutes().filter((r) => r.path.startsWith("/internal/box/")).map((r) => r.path);
  const bodies: Record<string, string> = {
    "/internal/box/events": JSON.stringify({ type: "chat.status", chatId: v.victim.chat, status: "error", error: "set by an intruder" }),
    "/internal/box/hello": JSON.stringify({ box: { url: "https://evil.example" } }),
  };
  const benign = JSON.stringify({ type: "chat.status", chatId: v.missing.chat, status: "idle" });
  const sig = (key: string, body: string, at = now()) => signBody(key, body, at);
  for (const path of paths) {
    const body = bodies[path];
    if (!body) throw new Error(`no intruder body for ${path}: add one to tests/intruders/door-cases.ts`);
    const cases: Array<[string, () => Promise<Record<string, string>>]> = [
      ["unsigned", async () => ({})],
      ["garbage", async () => ({ "x-ocweb-signature": "t=1,v1=zz" })],
      ["random key", async () => ({ "x-ocweb-signature": await sig(randomBytes(24).toString("hex"), body) })],
      ["SESSION_SECRET as key", async () => ({ "x-ocweb-signature": await sig(stack.sessionSecret, body) })],
      ["opencode password as key", async () => ({ "x-ocweb-signature": await sig(stack.box.box.supervisor.password, body) })],
      ["another box's token, unnamed", async () => ({ "x-ocweb-signature": await sig(hostile.token, body) })],
      ["stale (301 s)", async () => ({ "x-ocweb-signature": await sig(TEST_TOKEN, body, now() - 301) })],
      ["future (301 s)", async () => ({ "x-ocweb-signature": await sig(TEST_TOKEN, body, now() + 301) })],
      ["replayed over another body", async () => ({ "x-ocweb-signature": await sig(TEST_TOKEN, benign) })],
      ["upper-case hex", async () => ({ "x-ocweb-signature": (await sig(TEST_TOKEN, body)).toUpperCase().replace("T=", "t=").replace("V1=", "v1=") })],
      ["two signatures", async () => ({ "x-ocweb-signature": `t=${now()},v1=${"0".repeat(64)},${await sig(TEST_TOKEN, body)}` })],
      ["alice's box named, BOX_TOKEN", async () => ({ "x-ocweb-box": v.victim.box, "x-ocweb-signature": await sig(TEST_TOKEN, body) })],
      ["alice's box named, another box's token", async () => ({ "x-ocweb-box": v.victim.box, "x-ocweb-signature": await sig(hostile.token, body) })],
      ["empty box name", async () => ({ "x-ocweb-box": "", "x-ocweb-signature": await sig(TEST_TOKEN, body) })],
      ["lower-case box id", async () => ({ "x-ocweb-box": v.victim.box.toLowerCase(), "x-ocweb-signature": await sig(TEST_TOKEN, body) })],
      ["a session, no signature", async () => ({ cookie: `ocweb_session=${stack.cookies.alice}`, origin: stack.worker.url })],
      ["the bearer, no signature", async () => ({ authorization: `Bearer ${TEST_TOKEN}` })],
    ];
    for (const [name, headers] of cases) {
      await ctx.ledger.try({ phase, label: `POST ${path} (${name})`, method: "POST", url: stack.worker.url + path, headers: { ...json, ...(await headers()) }, body, expect: 401 });
    }
  }
  for (const type of ["chat.status", "permission.asked", "chat.checkpoint"]) {
    const body = JSON.stringify({ type, chatId: v.victim.chat, status: "error", sha: "a".repeat(40), filesChanged: 99 });
    const headers = { ...json, "x-ocweb-box": hostile.id, "x-ocweb-signature": await sig(hostile.token, body) };
    await ctx.ledger.try({ phase, label: `POST /internal/box/events (${type} from mallory's box about alice's chat)`, method: "POST", url: `${stack.worker.url}/internal/box/events`, headers, body, expect: 403 });
  }
}

/** POST /internal/boxes/register: only a fresh key claims a box; alice's used key, unknown keys and bad URLs do not. */
export async function registrations(ctx: Ctx, phase: string) {
  const url = `${ctx.stack.worker.url}/internal/boxes/register`;
  const tries: Array<[string, unknown, number]> = [
    ["no body", {}, 400],
    ["unknown key", { key: `ocwebreg_${randomBytes(32).toString("base64url")}`, url: "https://evil.example" }, 401],
    ["alice's used key", { key: ctx.v.victim.boxKey, url: "https://evil.example" }, 409],
    ["alice's key, plain http elsewhere", { key: ctx.v.victim.boxKey, url: "http://evil.example" }, 400],
    ["alice's key, credentials in the URL", { key: ctx.v.victim.boxKey, url: "https://u:p@evil.example" }, 400],
    ["mallory's used key", { key: ctx.v.hostileBox.key, url: "https://evil.example" }, 409],
  ];
  for (const [name, body, status] of tries) {
    await ctx.ledger.try({ phase, label: `POST /internal/boxes/register (${name})`, method: "POST", url, headers: json, body: JSON.stringify(body), expect: status });
  }
}

/** /auth: dev sign-in only from loopback (client IP and URL host), never as a GitHub user's login; no forged OAuth. */
export async function authDoors(ctx: Ctx, phase: string) {
  const { worker } = ctx.stack;
  const port = new URL(worker.url).port;
  const dev = (headers: Record<string, string>, login = "eve") =>
    ({ phase, label: "GET /auth/dev", method: "GET", url: `${worker.url}/auth/dev?login=${login}`, headers });
  for (const ip of ["203.0.113.9", "10.0.0.1", "::ffff:203.0.113.9", "2001:db8::1", "127.0.0.1, 203.0.113.9", "127.0.0.1.evil.example", "0.0.0.0", "::"]) {
    await ctx.ledger.try({ ...dev({ "cf-connecting-ip": ip }), expect: 403 });
  }
  for (const host of ["evil.example", "localhost.evil.example", "127.0.0.1.nip.io"]) {
    await ctx.ledger.try({ ...dev({ "cf-connecting-ip": "127.0.0.1", host: `${host}:${port}` }), expect: 403 });
  }
  await ctx.ledger.try({ ...dev({ "cf-connecting-ip": "203.0.113.9", "x-forwarded-for": "127.0.0.1", "x-real-ip": "127.0.0.1" }), expect: 403 });
  await ctx.ledger.try({ ...dev({}, "alice"), label: "GET /auth/dev?login=alice (a GitHub user's login)", expect: 409 });
  await ctx.ledger.try({ ...dev({}, "..%2Fadmin"), expect: 400 });
  const cb = `${worker.url}/auth/github/callback`;
  await ctx.ledger.try({ phase, label: "GET /auth/github/callback (no state)", method: "GET", url: `${cb}?code=x`, expect: 400 });
  await ctx.ledger.try({ phase, label: "GET /auth/github/callback (state without its cookie)", method: "GET", url: `${cb}?code=x&state=s`, expect: 400 });
  await ctx.ledger.try({ phase, label: "GET /auth/github/callback (forged code)", method: "GET", url: `${cb}?code=forged&state=s`, headers: { cookie: "ocweb_oauth_state=s" }, expect: [400, 401, 403, 502] });
  await ctx.ledger.try({ phase, label: "GET /auth/github (public redirect)", method: "GET", url: `${worker.url}/auth/github`, public: true, expect: 302 });
}

/** Every box route without its bearer, or with a wrong one (other secrets included): 401. /healthz is public. */
export async function boxBearer(ctx: Ctx, phase: string) {
  const { box } = ctx.stack;
  const { victim } = ctx.v;
  const routes = routesOf(box.box.app as unknown as Hono).filter((r) => r.path !== "/healthz");
  const requests = expand(routes, victim).map((f) => (f.path.startsWith("/oc/") ? { ...f, path: `${f.path}?directory=${encodeURIComponent(victim.directory)}` } : f));
  const pw = box.box.supervisor.password;
  const auths: Array<Record<string, string>> = [
    {},
    { authorization: `Bearer ${randomBytes(24).toString("hex")}` },
    { authorization: `Bearer ${pw}` },
    { authorization: box.box.supervisor.authHeader },
    { authorization: `Bearer ${ctx.stack.sessionSecret}` },
    { authorization: `Bearer ${TEST_TOKEN.slice(0, -1)}` },
    { authorization: `Bearer ${TEST_TOKEN}x` },
    { authorization: `Bearer  ${TEST_TOKEN}` },
    { authorization: `Token ${TEST_TOKEN}` },
    { authorization: `Bearer ${ctx.v.hostileBox.token}` },
    { cookie: `ocweb_session=${ctx.stack.cookies.alice}` },
  ];
  for (const f of requests) {
    for (const headers of auths) {
      await ctx.ledger.try({ phase, label: f.label, method: f.method, url: box.url + f.path, headers: { ...json, ...headers }, body: f.body, expect: 401 });
    }
    const sep = f.path.includes("?") ? "&" : "?";
    await ctx.ledger.try({ phase, label: `${f.label} (token in the query)`, method: f.method, url: `${box.url}${f.path}${sep}auth_token=${TEST_TOKEN}`, headers: json, body: f.body, expect: 401 });
  }
  await ctx.ledger.try({ phase, label: "GET /healthz (public)", method: "GET", url: `${box.url}/healthz`, public: true, expect: 200 });
  return requests.length;
}
