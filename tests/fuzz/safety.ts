import type { FuzzRequest, Route } from "./arbitraries.ts";

/**
 * A /processes/:pid/kill that could name a real process of this shared machine goes to a pid that
 * cannot exist (pids stay under 4194304): the generators make "7", " 12", "0x10"… now and then.
 */
export function harmlessPid(req: FuzzRequest): FuzzRequest {
  const m = /^(.*\/processes\/)([^/]*)(\/kill)$/.exec(req.path);
  if (!m) return req;
  const n = Number(safeDecode(m[2]!));
  const real = Number.isInteger(n) && n >= 2 && n < 4_194_304 && n !== process.pid;
  return real ? { ...req, path: `${m[1]}4194304${m[3]}` } : req;
}

/**
 * Through an opencode pass-through, a request naming a real worktree or session is only ever a read:
 * opencode runs a posted shell command or prompt. `real`: the paths and ids that must not be written to.
 */
export function readOnlyOnRealChats(req: FuzzRequest, route: Route, real: string[]): FuzzRequest {
  if (!route.path.endsWith("/oc/*") || ["GET", "HEAD", "OPTIONS"].includes(req.method)) return req;
  const said = [req.path, req.query, ...Object.values(req.headers)].join(" ");
  const named = real.some((s) => said.includes(s) || said.includes(encodeURIComponent(s)) || safeDecode(said).includes(s));
  return named ? { method: "GET", path: req.path, query: req.query, headers: {} } : req;
}

export function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Cloudflare refuses URLs over 16 KB at its edge (414), and workerd's own listener answers 431: the worker never sees them. */
export function withinUrlLimit(req: FuzzRequest): FuzzRequest {
  if (req.path.length + req.query.length < 15_000) return req;
  return { ...req, path: req.path.split("/").map((seg) => seg.slice(0, 3_000)).join("/"), query: req.query.slice(0, 3_000) };
}
