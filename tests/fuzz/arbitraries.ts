import fc, { type Arbitrary } from "fast-check";
import { ATTACKS, OVERLONG_LENGTHS } from "./attacks.ts";

/** Valid values per field or parameter name; the suites fill in what exists at run time (chat ids, repos…). */
export type Valid = Record<string, Arbitrary<unknown>>;
export type Route = { method: string; path: string };
export type FuzzRequest = { method: string; path: string; query: string; headers: Record<string, string>; body?: string };
export type FuzzContext = {
  /** Valid body values by field name; a generated body is any subset of these fields. */
  fields: Valid;
  /** Valid path-parameter values by parameter name (`:chatId` → chatId). */
  params: Record<string, Arbitrary<string>>;
  /** Query keys worth setting, with their valid values. */
  query: Valid;
  /** What `*` stands for (the opencode pass-throughs: see ocPath). */
  wildcard: Arbitrary<string>;
  /** Extra headers a route may get (x-opencode-directory…). */
  headers?: Arbitrary<Record<string, string>>;
  /** Last word on a generated request: drops what must not be sent (see each suite). */
  safe?: (req: FuzzRequest, route: Route) => FuzzRequest;
};

/** Lines the scripted demo model obeys (write/edit/bash…) would run on this machine: they get an x in front. */
const neutralize = (s: string) => s.replace(/^(\s*)(write|edit|bash|ask|say|sleep)\b/gim, "$1x$2");

/** Any string a client could send: the fixed attacks, random code points, and overlong runs. */
export const badString: Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...ATTACKS) },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: "grapheme", maxLength: 20 }) },
  { weight: 1, arbitrary: fc.string({ unit: "binary-ascii", maxLength: 30 }) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...OVERLONG_LENGTHS), fc.constantFrom("a", "é", "🚀", "/", "-", "0")).map(([n, ch]) => ch.repeat(n)) },
).map(neutralize);

const str = (v: unknown): string => (typeof v === "string" ? v : (JSON.stringify(v) ?? "undefined"));

/** A valid value spoiled by an attack before or after it ("acme/app\0", "--x/acme/app"…). */
const spoiled = (valid: Arbitrary<unknown>) =>
  fc.tuple(valid, fc.constantFrom(...ATTACKS), fc.boolean()).map(([v, a, before]) => neutralize(before ? `${a}${str(v)}` : `${str(v)}${a}`));

export const anyJson: Arbitrary<unknown> = fc.jsonValue({ maxDepth: 3 });

const wrongType: Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, true, false, 0, -1, 1.5, 2 ** 53, -(2 ** 31), [], {}, [null], { "": "" }),
  fc.double(),
  fc.integer(),
  fc.array(badString, { maxLength: 3 }),
  fc.dictionary(badString, badString, { maxKeys: 3 }),
);

/** One field's value: usually valid (so the others get a chance to matter), else an attack, a spoiled one or a wrong type. */
export function fieldValue(valid: Arbitrary<unknown>): Arbitrary<unknown> {
  return fc.oneof(
    { weight: 12, arbitrary: valid },
    { weight: 3, arbitrary: badString },
    { weight: 1, arbitrary: spoiled(valid) },
    { weight: 1, arbitrary: wrongType },
  );
}

const ABSENT = Symbol("absent");

/** An object holding a random subset of the known fields (each present with `presence`), each from fieldValue. */
export function objectOf(fields: Valid, presence = 0.6): Arbitrary<Record<string, unknown>> {
  const weightIn = Math.round(presence * 20);
  const entries = Object.entries(fields).map(([k, v]) =>
    fc.oneof({ weight: weightIn, arbitrary: fieldValue(v) }, { weight: 20 - weightIn, arbitrary: fc.constant(ABSENT) }).map((value) => [k, value] as const),
  );
  return fc.tuple(...entries).map((pairs) => Object.fromEntries(pairs.filter(([, v]) => v !== ABSENT)));
}

/** Sparse bodies reach the routes with few required fields, dense ones those with many (oneof leans to the first). */
const someOf = (fields: Valid) =>
  fc.oneof({ weight: 2, arbitrary: objectOf(fields, 0.9) }, { weight: 1, arbitrary: objectOf(fields, 0.5) }, { weight: 1, arbitrary: objectOf(fields, 0.2) });

const GARBAGE = ["{", "}", "[", "{\"a\":", "\u0000", "\uFEFF{}", "{\"repo\":\"a/b\",}", "nul", "{'a':1}", "1 2", "\"\\ud800\"", "{\"__proto__\":{\"x\":1}}", "[".repeat(5_000), "{\"a\":".repeat(2_000)];
const CONTENT_TYPES = ["application/json; charset=utf-8", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/json; charset=utf-16", "application/merge-patch+json", ""];

/** A request body: the known fields (mostly), any JSON, broken JSON, or none; with a fitting or a wrong content type. */
export function bodyArb(ctx: FuzzContext): Arbitrary<{ body?: string; contentType?: string }> {
  const json = fc.oneof(
    { weight: 10, arbitrary: someOf(ctx.fields) },
    { weight: 3, arbitrary: anyJson },
    { weight: 1, arbitrary: fc.array(someOf(ctx.fields), { maxLength: 2 }) },
  ).map((v) => JSON.stringify(v));
  const text = fc.oneof({ weight: 12, arbitrary: json }, { weight: 2, arbitrary: fc.constantFrom(...GARBAGE) }, { weight: 1, arbitrary: badString });
  const type = fc.oneof({ weight: 10, arbitrary: fc.constant("application/json") }, { weight: 2, arbitrary: fc.constantFrom(...CONTENT_TYPES) });
  return fc.oneof(
    { weight: 12, arbitrary: fc.record({ body: text, contentType: type }) },
    { weight: 1, arbitrary: fc.constant({}) },
  );
}

/** encodeURIComponent that, like a URL parser, sends a lone surrogate as U+FFFD instead of throwing. */
export const enc = (s: string) => encodeURIComponent(s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, "\uFFFD"));
const encodeSegment = (s: string, raw: boolean) => (raw ? s.replace(/[?#%]/g, enc) : enc(s));

/** A path parameter: valid, or an attack, percent-encoded (one segment) or raw (may split into several). */
function paramArb(ctx: FuzzContext, name: string): Arbitrary<string> {
  const valid = ctx.params[name] ?? fc.constant("x");
  const value = fc.oneof({ weight: 4, arbitrary: valid }, { weight: 4, arbitrary: badString }, { weight: 1, arbitrary: spoiled(valid) });
  return fc.tuple(value, fc.nat(9)).map(([v, n]) => encodeSegment(v, n === 0) || "%20");
}

/** The route's path with every `:param` and `*` filled in. */
export function pathArb(ctx: FuzzContext, route: Route): Arbitrary<string> {
  const parts = route.path.split("/").map((seg): Arbitrary<string> => {
    if (seg.startsWith(":")) return paramArb(ctx, seg.slice(1));
    if (seg === "*") return ctx.wildcard;
    return fc.constant(seg);
  });
  return fc.tuple(...parts).map((xs) => xs.join("/"));
}

/** A query string: known keys (valid or attacked, sometimes repeated) and stray keys. */
export function queryArb(ctx: FuzzContext): Arbitrary<string> {
  const keys = Object.keys(ctx.query);
  const known = keys.length === 0 ? fc.constant<[string, string]>(["q", "x"]) : fc.constantFrom(...keys).chain((k) => fc.tuple(fc.constant(k), fieldValue(ctx.query[k]!).map(str)));
  const stray = fc.tuple(badString, badString);
  const pair = fc.oneof({ weight: 5, arbitrary: known }, { weight: 1, arbitrary: stray });
  return fc.tuple(fc.array(pair, { maxLength: 4 }), fc.nat(5)).map(([pairs, n]) =>
    pairs.map(([k, v]) => (n === 0 ? `${k}=${v}`.replace(/[#&]/g, enc) : `${enc(k)}=${enc(v)}`)).join("&"),
  );
}

const BODY_METHODS = ["POST", "PUT", "PATCH", "DELETE"];
const ANY_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/** One request to `route`: path params, query, headers and (for methods that take one) a body. */
export function requestArb(ctx: FuzzContext, route: Route): Arbitrary<FuzzRequest> {
  const method = route.method === "ALL" ? fc.constantFrom(...ANY_METHODS) : fc.constant(route.method);
  const headers = ctx.headers ?? fc.constant({});
  return fc.tuple(method, pathArb(ctx, route), queryArb(ctx), bodyArb(ctx), headers).map(([m, path, query, b, extra]) => {
    const withBody = BODY_METHODS.includes(m) && b.body !== undefined;
    const req: FuzzRequest = {
      method: m,
      path,
      query,
      headers: { ...extra, ...(withBody && b.contentType ? { "content-type": b.contentType } : {}) },
      ...(withBody ? { body: b.body } : {}),
    };
    return ctx.safe ? ctx.safe(req, route) : req;
  });
}

/** opencode API paths (for the /oc pass-throughs): its real routes with fuzzed ids, or random segments. */
export function ocPath(sessionId: Arbitrary<string>): Arbitrary<string> {
  const id = (prefix: string) => fc.oneof({ weight: 2, arbitrary: fc.constant(`${prefix}_0000zzzz`) }, { weight: 1, arbitrary: badString.map(enc) });
  const sid = fc.oneof({ weight: 3, arbitrary: sessionId }, { weight: 1, arbitrary: badString.map(enc) });
  const session = fc.tuple(sid, fc.constantFrom("", "/message", "/diff", "/todo", "/children", "/abort", "/fork", "/share", "/shell", "/revert"), fc.option(id("msg"))).map(
    ([s, tail, mid]) => `session/${s}${tail}${tail === "/message" && mid ? `/${mid}` : ""}`,
  );
  const fixed = fc.constantFrom(
    "session", "session/status", "file", "file/content", "file/status", "find", "find/file", "find/symbol", "path", "vcs", "vcs/diff", "project", "project/current",
    "agent", "provider", "config/providers", "event", "global/health", "global/event", "doc", "command", "lsp", "mcp", "global/dispose", "instance/dispose", "config", "pty", "auth/x",
  );
  const random = fc.array(fc.oneof(badString.map(enc), fc.constantFrom("..", "%2e%2e", "%2F", "%00", ".", "a%2F..%2F..", "%E0%A4%A")), { minLength: 1, maxLength: 3 }).map((xs) => xs.join("/"));
  return fc.oneof({ weight: 4, arbitrary: session }, { weight: 4, arbitrary: fixed }, { weight: 2, arbitrary: random });
}

/** Query parameters opencode reads (path, pattern, limit…), plus the ones the proxies strip or pin. */
export const ocQuery: Valid = {
  path: fc.constantFrom("README.md", "fuzz.txt", "src", "."),
  pattern: fc.constantFrom("app", "fuzz", "^#"),
  query: fc.constantFrom("READ", "fuzz"),
  limit: fc.constantFrom("1", "10"),
  type: fc.constantFrom("file", "directory"),
  workspace: fc.constant("w"),
  auth_token: fc.constant("b3BlbmNvZGU6eA=="),
};
