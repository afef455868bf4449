import fc, { type Arbitrary } from "fast-check";
import type { Hono } from "hono";
import { inspectRoutes } from "hono/dev";
import type { FuzzRequest, Route } from "./arbitraries.ts";

export type Answer = { status: number; contentType: string; text: string; streamed: boolean };
export type Send = (req: FuzzRequest, route: Route) => Promise<Answer>;
export type Tally = { cases: number; statuses: Map<number, number>; fiveXx: number; failures: string[]; known: Map<string, number> };
/**
 * A bad answer already found and reported whose fix lies in a file this suite's author may not edit:
 * counted and printed, not failed. Keep `matches` as narrow as the bug.
 */
export type Known = { what: string; matches: (route: Route, req: FuzzRequest, res: Answer) => boolean };
export type CheckOptions = { secrets: string[]; paths: string[]; foreign4xx?: (route: Route) => boolean; known?: Known[] };

/** FUZZ_SEED / FUZZ_RUNS override the fixed seed and a suite's total case count. */
export const SEED = Number(process.env.FUZZ_SEED ?? 20260426);
export const runsFrom = (fallback: number) => Number(process.env.FUZZ_RUNS ?? fallback);
const ANSWER_TIMEOUT_MS = 30_000;
/** FUZZ_VERBOSE=1: statuses and time per route; 2: every answer too. */
const VERBOSE = Number(process.env.FUZZ_VERBOSE ?? 0);
/** FUZZ_ROUTE=<regex>: only the routes whose "METHOD /path" matches. */
const ONLY = process.env.FUZZ_ROUTE ? new RegExp(process.env.FUZZ_ROUTE) : undefined;
/** FUZZ_EXPLORE=1: log every bad answer and go on, instead of stopping a route at the first one. */
const EXPLORE = Boolean(process.env.FUZZ_EXPLORE);

/** The app's endpoints (not its middleware), as Hono registered them. */
export function endpoints(app: { routes: Hono["routes"] }): Route[] {
  const seen = new Set<string>();
  return inspectRoutes(app as unknown as Hono).filter((r) => !r.isMiddleware).map(({ method, path }) => ({ method, path })).filter((r) => {
    const key = `${r.method} ${r.path}`;
    return !seen.has(key) && seen.add(key) && (!ONLY || ONLY.test(key));
  });
}

/** More cases where there is more to vary: path params, a body, a wildcard. */
export function weightOf(route: Route): number {
  const params = route.path.split("/").filter((s) => s.startsWith(":")).length;
  const body = route.method === "GET" ? 0 : 2;
  return 1 + params + body + (route.path.endsWith("*") ? 3 : 0);
}

export function newTally(): Tally {
  return { cases: 0, statuses: new Map(), fiveXx: 0, failures: [], known: new Map() };
}

/** What is wrong with one answer; empty when it is fine. */
export function problems(route: Route, req: FuzzRequest, res: Answer, opts: CheckOptions): string[] {
  const out: string[] = [];
  if (res.status >= 500) out.push(`answered ${res.status}`);
  for (const secret of opts.secrets) if (secret && res.text.includes(secret)) out.push("the answer carries a secret");
  if (res.text.includes("root:x:0:0:")) out.push("the answer carries /etc/passwd");
  if (res.status < 400 || res.status >= 500) return out;
  if (/^\s+at |\bat \S+ \(\S+:\d+:\d+\)|\.ts:\d+:\d+/m.test(res.text)) out.push("4xx body has a stack trace");
  for (const p of opts.paths) if (res.text.includes(p)) out.push(`4xx body names a server path (${p})`);
  if (req.method === "HEAD" || opts.foreign4xx?.(route)) return out;
  const body = parse(res.text) as { error?: { code?: unknown; message?: unknown } } | undefined;
  if (!res.contentType.includes("application/json")) out.push(`4xx is not JSON (${res.contentType || "no content type"})`);
  if (typeof body?.error?.code !== "string" || !body.error.code) out.push("4xx without error.code");
  if (typeof body?.error?.message !== "string" || !body.error.message.trim()) out.push("4xx without error.message");
  return out;
}

/** Runs `runs` generated requests against one route; the first bad answer fails the route (shrunk, reported). */
export async function fuzzRoute(route: Route, arb: Arbitrary<FuzzRequest>, send: Send, opts: CheckOptions & { runs: number; seed: number; tally: Tally }) {
  const { tally } = opts;
  const mine = new Map<number, number>();
  const started = Date.now();
  const property = fc.asyncProperty(arb, async (req) => {
    tally.cases++;
    const res = await withTimeout(send(req, route), `${req.method} ${req.path} gave no answer in ${ANSWER_TIMEOUT_MS / 1000} s`);
    tally.statuses.set(res.status, (tally.statuses.get(res.status) ?? 0) + 1);
    mine.set(res.status, (mine.get(res.status) ?? 0) + 1);
    const found = problems(route, req, res, opts);
    if (VERBOSE > 1) console.log(`${req.method} ${req.path}?${req.query} ${req.body?.slice(0, 300) ?? ""}\n  → ${res.status} ${res.text.slice(0, 300)}`);
    const known = found.length > 0 ? opts.known?.find((k) => k.matches(route, req, res)) : undefined;
    if (known) return void tally.known.set(known.what, (tally.known.get(known.what) ?? 0) + 1);
    if (res.status >= 500) tally.fiveXx++;
    if (found.length > 0 && EXPLORE) console.log(`${req.method} ${req.path}?${req.query} ${JSON.stringify(req.headers)} ${req.body?.slice(0, 200) ?? ""}\n  ${found.join("; ")}: ${res.status} ${res.text.slice(0, 200)}`);
    else if (found.length > 0) throw new Error(`${found.join("; ")}\n  answer ${res.status}: ${res.text.slice(0, 400)}`);
  });
  const details = await fc.check(property, { numRuns: opts.runs, seed: opts.seed, verbose: 0 });
  if (VERBOSE) console.log(`${route.method} ${route.path}: ${details.numRuns} runs in ${Date.now() - started} ms; ${statusList(mine)}`);
  if (!details.failed) return;
  const error = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
  tally.failures.push(`${route.method} ${route.path}: ${error}\n${await fc.asyncDefaultReportMessage(details)}`);
}

/** A per-route seed that does not move when routes are added elsewhere. */
export function seedFor(base: number, route: Route): number {
  let h = base | 0;
  for (const ch of `${route.method} ${route.path}`) h = (Math.imul(h, 31) + ch.charCodeAt(0)) | 0;
  return h;
}

/** Splits `total` cases over the routes by weightOf, at least 5 each. */
export function share(routes: Route[], total: number): Map<Route, number> {
  const sum = routes.reduce((n, r) => n + weightOf(r), 0);
  return new Map(routes.map((r) => [r, Math.max(5, Math.round((total * weightOf(r)) / sum))]));
}

/** Reads an answer without waiting on an endless stream (SSE): those are cancelled once the status is known. */
export async function readAnswer(res: Response): Promise<Answer> {
  const contentType = res.headers.get("content-type") ?? "";
  if (contentType.includes("text/event-stream")) {
    await res.body?.cancel();
    return { status: res.status, contentType, text: "", streamed: true };
  }
  return { status: res.status, contentType, text: await res.text(), streamed: false };
}

export function summary(name: string, tally: Tally, routes: number): string {
  const known = [...tally.known].map(([what, n]) => `\n  known, reported, ${n}×: ${what}`).join("");
  return `${name} bad input: ${tally.cases.toLocaleString("en-US")} cases over ${routes} routes, ${tally.fiveXx} 5xx (seed ${SEED}; ${statusList(tally.statuses)})${known}`;
}

const statusList = (statuses: Map<number, number>) => [...statuses].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`).join(" ");

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function withTimeout<T>(work: Promise<T>, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ANSWER_TIMEOUT_MS);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
