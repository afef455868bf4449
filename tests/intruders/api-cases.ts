import { randomBytes } from "node:crypto";
import { sha256Hex } from "../../worker/auth/crypto.ts";
import type { Answer } from "./http.ts";
import type { Ledger } from "./ledger.ts";
import { boxQuery, expand, fillPath, namesVictim, SAFE, validBody, workerRoutes, type Filled, type Route } from "./routes.ts";
import type { IntruderStack } from "./stack.ts";
import type { Victims } from "./victims.ts";

export type Ctx = { stack: IntruderStack; ledger: Ledger; v: Victims };

const apiRoutes = () => workerRoutes().filter((r) => r.path.startsWith("/api/"));
const json = { "content-type": "application/json" };

function request(ctx: Ctx, phase: string, f: Filled, headers: Record<string, string>, extra: { expect?: number | number[]; leakCheck?: boolean } = {}) {
  return ctx.ledger.try({ phase, label: f.label, method: f.method, url: ctx.stack.worker.url + f.path, headers: { ...json, ...headers }, body: f.body, ...extra });
}

/** Every /api route, each method of the pass-through, with the victim's real ids in the path. */
export const apiRequests = (v: Victims) => expand(apiRoutes(), v.victim);

/** No cookie at all: 401 everywhere (a same-origin Origin, so the session check is what answers). */
export async function noSession(ctx: Ctx, phase: string) {
  for (const f of apiRequests(ctx.v)) await request(ctx, phase, f, { origin: ctx.stack.worker.url }, { expect: 401 });
}

/** Forged, oversized, expired, revoked, tampered and misnamed session cookies: 401 everywhere. */
export async function badSessions(ctx: Ctx, phase: string) {
  const { alice, expired, revoked } = ctx.stack.cookies;
  const flipped = (alice[0] === "A" ? "B" : "A") + alice.slice(1);
  const cookies = [
    `ocweb_session=${randomBytes(32).toString("base64url")}`,
    `ocweb_session=${"A".repeat(200)}`,
    `ocweb_session=${expired}`,
    `ocweb_session=${revoked}`,
    `ocweb_session=${flipped}`,
    `ocweb_session=${await sha256Hex(alice)}`, // the row id, not the cookie
    `session=${alice}`,
    `ocweb_session=`,
  ];
  for (const f of apiRequests(ctx.v)) {
    for (const cookie of cookies) await request(ctx, phase, f, { cookie, origin: ctx.stack.worker.url }, { expect: 401 });
  }
}

/** The answer with both sets of ids blanked, so "alice's chat" and "no such chat" compare equal. */
function blank(res: Answer, ids: string[]): string {
  const text = ids.reduce((t, id) => t.split(id).join("<id>"), res.text);
  return `${res.status} ${text}`;
}

/** The routes that name one of alice's resources: an id in the path, her box in the query or the body. */
export const victimRoutes = (v: Victims) =>
  apiRoutes().filter((r) => r.method !== "ALL" && (namesVictim(r) || boxQuery(r, "x") !== "" || validBody(r, v.victim)?.includes(v.victim.box)));

/**
 * Mallory on every route that names one of alice's resources (chat, schedule, push subscription, box)
 * gets exactly the answer a missing id gets (404 for ids in the path), and changes nothing.
 */
export async function malloryOnVictims(ctx: Ctx, phase: string) {
  const { v } = ctx;
  const cookie = `ocweb_session=${ctx.stack.cookies.mallory}`;
  const targets = victimRoutes(v);
  const as = (r: Route, ids: typeof v.victim): Filled => ({ label: `${r.method} ${r.path}`, method: r.method, path: fillPath(r, ids) + boxQuery(r, ids.box), body: validBody(r, ids) });
  const every = (["chat", "schedule", "subscription", "box"] as const).flatMap((k) => [v.victim[k], v.missing[k]]);
  for (const r of targets) {
    const theirs = await request(ctx, phase, as(r, v.victim), { cookie, origin: ctx.stack.worker.url }, { expect: namesVictim(r) ? 404 : [400, 404] });
    const none = await request(ctx, phase, as(r, { ...v.victim, ...v.missing }), { cookie, origin: ctx.stack.worker.url });
    if (blank(theirs, every) !== blank(none, every)) {
      ctx.ledger.flag(phase, `${r.method} ${r.path}`, `alice's id answers ${blank(theirs, every)} but a missing one ${blank(none, every)}`);
    }
  }
}

/** Mallory's own lists and views (rightly 200) carry nothing of alice's. */
export async function malloryOwnViews(ctx: Ctx, phase: string) {
  const cookie = `ocweb_session=${ctx.stack.cookies.mallory}`;
  const plain = apiRoutes().filter((r) => r.method === "GET" && !r.path.includes(":") && !r.path.endsWith("/*"));
  const extra = ["/api/chats?archived=true", "/api/chats?status=idle", "/api/chats?repo=acme/app", "/api/usage?days=90", "/api/repos/acme/app/branches", "/api/repos/acme/app/issues", `/api/chats?group=${ctx.v.victim.chat}`];
  const views = [...plain.map((r) => ({ label: `GET ${r.path}`, path: r.path })), ...extra.map((p) => ({ label: `GET ${p}`, path: p }))];
  for (const { label, path } of views) await request(ctx, phase, { label, method: "GET", path }, { cookie }, { leakCheck: true });
  return views.length;
}

const hostileOrigins = (url: string) => {
  const u = new URL(url);
  return ["https://evil.example", "null", undefined, url.replace("http:", "https:"), `http://${u.hostname}:${Number(u.port) + 1}`, `${url}.evil.example`, `http://localhost:${u.port}`];
};

/** Alice's own session, her own ids, a state-changing method, and a cross-site Origin or none: 403. */
export async function crossSite(ctx: Ctx, phase: string) {
  const cookie = `ocweb_session=${ctx.stack.cookies.alice}`;
  const changing = [...apiRequests(ctx.v).filter((f) => !SAFE.has(f.method)), { label: "POST /auth/logout", method: "POST", path: "/auth/logout" }];
  for (const f of changing) {
    for (const origin of hostileOrigins(ctx.stack.worker.url)) {
      await request(ctx, phase, f, origin === undefined ? { cookie } : { cookie, origin }, { expect: 403 });
    }
  }
  return changing.length;
}
