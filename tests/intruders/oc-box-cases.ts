import path from "node:path";
import { TEST_TOKEN } from "../helpers/box-harness.ts";
import type { Ctx } from "./api-cases.ts";

/** Refused by the box whatever the directory (ARCHITECTURE.md "ANY /oc/*", box/opencode/oc-guard.ts). */
export const REFUSED: Array<[method: string, path: string]> = [
  ["POST", "/global/dispose"], ["POST", "/global/upgrade"], ["POST", "/instance/dispose"],
  ["PATCH", "/config"], ["PATCH", "/global/config"], ["GET", "/config"], ["GET", "/global/config"],
  ["GET", "/pty"], ["POST", "/pty"], ["GET", "/pty/shells"], ["GET", "/pty/pty_x/connect"],
  ["PUT", "/auth/anthropic"], ["DELETE", "/auth/anthropic"], ["POST", "/mcp"], ["POST", "/tui/submit-prompt"],
  ["POST", "/provider/anthropic/oauth/authorize"], ["POST", "/experimental/worktree"], ["GET", "/experimental/session"],
  ["GET", "/global/event"], ["POST", "/sync/history"], ["GET", "/project"], ["GET", "/project/current"], ["POST", "/log"],
  ["GET", "/api/session"], ["GET", "/api/event"], ["POST", "/api/pty"], ["GET", "/api/fs/list"],
];

/** The same route as opencode's router also takes it: trailing slash, other case, percent-encoded. */
export const variants = (p: string) => [
  p, `${p}/`, p.toUpperCase(), p.replace(/\/(\w)/g, (_, ch: string) => `/${ch.toUpperCase()}`),
  p.replace(/^\/(\w)/, (_, ch: string) => `/%${ch.charCodeAt(0).toString(16)}`), p.replace(/(.)\/(?=[^/]*$)/, "$1%2F"),
].filter((s, i, all) => all.indexOf(s) === i);

/** A session path as opencode would still route it, but spelled so a naive check misses the session. */
export const sessionSpellings = (sessionId: string, rest: string) => [
  `/session/${sessionId}${rest}`, `/session/%73${sessionId.slice(1)}${rest}`, `/SESSION/${sessionId}${rest}`,
  `/Session/${sessionId}${rest}`, `/session/${sessionId}${rest.replace(/^\//, "%2F")}`,
];

/**
 * The box's /oc with the right bearer (what the worker sends): directories that are not a chat's
 * worktree (query, header, encoded, traversal), the refused routes in every spelling, a session with
 * another chat's directory, opencode's web-app fallback: all refused.
 */
export async function boxOc(ctx: Ctx, phase: string) {
  const { box } = ctx.stack;
  const { victim, own } = ctx.v;
  const W = victim.directory;
  const auth = { authorization: `Bearer ${TEST_TOKEN}`, "content-type": "application/json" };
  const go = (label: string, method: string, p: string, expect: number | number[], headers: Record<string, string> = {}) =>
    ctx.ledger.try({ phase, label, method, url: box.url + p, headers: { ...auth, ...headers }, body: method === "GET" ? undefined : "{}", expect });
  const q = (dir: string) => `directory=${encodeURIComponent(dir)}`;

  const foreign = [
    "/tmp", "/", box.dataDir, path.join(box.dataDir, "repos", "acme__app.git"), path.join(box.dataDir, "worktrees"),
    path.join(box.dataDir, "opencode", "default-instance"), `${W}/`, `${W}/.`, `${W}/..`, `${W}/../${path.basename(own.directory)}/..`,
    `${W}/sub`, W.toUpperCase(), `${W}\u0000`, ` ${W}`,
  ];
  for (const dir of foreign) {
    await go("GET /oc/session (foreign directory)", "GET", `/oc/session?${q(dir)}`, [400, 403]);
    await go("GET /oc/file (foreign directory in the header)", "GET", "/oc/file?path=.", [400, 403], { "x-opencode-directory": encodeURIComponent(dir) });
  }
  await go("directory double-encoded", "GET", `/oc/session?directory=${encodeURIComponent(encodeURIComponent("/tmp"))}`, 403);
  await go("directory raw in the header", "GET", "/oc/session", 403, { "x-opencode-directory": "/tmp" });
  await go("a foreign directory first, the chat's second", "GET", `/oc/session?${q("/tmp")}&${q(W)}`, 403);
  await go("query and header disagree", "GET", `/oc/session?${q(W)}`, 400, { "x-opencode-directory": encodeURIComponent("/tmp") });
  await go("no directory", "POST", "/oc/session", 403);
  await go("path traversal", "GET", `/oc/..%2F..%2Fmgmt/chats?${q(W)}`, 400);
  await go("opencode's web app fallback", "GET", `/oc/no-such-route?${q(W)}`, 404);

  for (const [method, p] of REFUSED) {
    for (const spelled of variants(p)) await go(`${method} /oc${p} (${spelled})`, method, `/oc${spelled}?${q(W)}`, [400, 403]);
  }
  for (const spelled of sessionSpellings(victim.sessionId, "/message")) {
    await go("another chat's session with this chat's directory", "GET", `/oc${spelled}?${q(own.directory)}`, 403);
  }
}

/** `workspace`, `auth_token`, `scope`, `location[…]` never reach opencode; answers the problems found. */
export async function strippedParams(ctx: Ctx): Promise<string[]> {
  const { box } = ctx.stack;
  const { victim, own } = ctx.v;
  const problems: string[] = [];
  const base = `/oc/session?directory=${encodeURIComponent(victim.directory)}`;
  const extras: Array<[string, Record<string, string>]> = [
    ["&workspace=wrk_intruder", {}],
    ["&auth_token=wrong", {}],
    ["", { "x-opencode-workspace": "wrk_intruder" }],
    ["&scope=project", {}],
    ["&Scope=project", {}],
    [`&location%5Bdirectory%5D=${encodeURIComponent(own.directory)}`, {}],
  ];
  for (const [query, headers] of extras) {
    const res = await box.call("GET", base + query, undefined, headers);
    const label = `GET ${base}${query} ${JSON.stringify(headers)}`;
    if (res.status !== 200 || !res.text.includes(victim.sessionId)) problems.push(`${label} → ${res.status}: ${res.text.slice(0, 200)}`);
    if (res.text.includes(own.sessionId)) problems.push(`${label} lists another chat's session: ${res.text.slice(0, 200)}`);
  }
  return problems;
}
