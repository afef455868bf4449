import { sessionIdIn } from "../../lib/names.ts";

/**
 * What the box lets through to opencode (ARCHITECTURE.md "ANY /oc/*"). Pure: the route supplies
 * lookups, this decides.
 */
const blocked: Array<[method: string | "*", pattern: RegExp]> = [
  ["POST", /^\/global\/(dispose|upgrade)$/],
  ["POST", /^\/instance\/dispose$/],
  ["*", /^\/(global\/)?config$/], // read exposes provider keys; writes dispose instances
  ["*", /^\/global\/event$/], // every directory's events, other chats' included
  ["*", /^\/pty(\/|$)/],
  ["*", /^\/tui(\/|$)/],
  ["*", /^\/auth(\/|$)/],
  ["*", /^\/provider\/[^/]+\/oauth(\/|$)/],
  ["*", /^\/experimental(\/|$)/], // cross-project session lists, worktrees, workspaces, project copies
  ["*", /^\/api(\/|$)/], // opencode's newer API: routed by location[directory], with PTYs and files anywhere
  ["*", /^\/sync(\/|$)/], // history replays every session's events
  ["*", /^\/project(\/|$)/], // a project is every worktree of a repo: other chats' paths, a shared name
  ["POST", /^\/mcp(\/|$)/], // adding an MCP server runs a command on the box
  ["DELETE", /^\/mcp(\/|$)/],
  ["POST", /^\/log$/],
];

/** Read-only routes that need no chat directory (they run in the box's own default instance). */
const directoryless = new Set(["/global/health", "/provider", "/config/providers", "/agent", "/doc"]);

/** Routes whose answer carries provider credentials; the proxy strips them. Match on routeKey(path). */
export const redactedRoutes = new Set(["/provider", "/config/providers"]);

/** opencode's router ignores case and one trailing slash (`POST /INSTANCE/dispose/` disposes): match on this. */
export const routeKey = (path: string) => path.toLowerCase().replace(/(.)\/$/, "$1");

export type GuardInput = {
  method: string;
  path: string; // opencode path, after /oc, percent-decoded
  directories: string[]; // from ?directory= and x-opencode-directory, decoded
  query?: URLSearchParams;
};

/** opencode checks an id's prefix and answers a 500 to any other shape; the box answers 400 first. */
const idShapes: Array<[where: RegExp, prefix: string, what: string]> = [
  [/^\/session\/(?!status\/?$)([^/]+)/i, "ses_", "session"],
  [/^\/session\/[^/]+\/message\/([^/]+)/i, "msg_", "message"],
  [/\/part\/([^/]+)/i, "prt_", "part"],
  [/^\/session\/[^/]+\/permissions\/([^/]+)/i, "per_", "permission"],
  [/^\/permission\/([^/]+)/i, "per_", "permission"],
  [/^\/question\/([^/]+)/i, "que_", "question"],
];

function badId(path: string): string | undefined {
  for (const [where, prefix, what] of idShapes) {
    const id = where.exec(path)?.[1];
    if (id !== undefined && !id.startsWith(prefix)) return `${id} is not a ${what} id (${prefix}…)`;
  }
}

/** /file and /file/content read any path opencode can; only paths inside the chat's worktree go through. */
function fileOutsideWorktree(route: string, query: URLSearchParams | undefined): boolean {
  if (!/^\/file(\/content)?$/.test(route)) return false;
  return (query?.getAll("path") ?? []).some((p) => p.startsWith("/") || p.startsWith("~") || p.split(/[/\\]/).includes(".."));
}

export type GuardVerdict =
  | { ok: true; directory?: string; sessionId?: string }
  | { ok: false; status: 400 | 403; message: string };

export function checkOcRequest(input: GuardInput, isChatWorktree: (dir: string) => boolean): GuardVerdict {
  const { method, path } = input;
  if (!/^(\/[A-Za-z0-9_.:@-]+)*\/?$/.test(path) || path.split("/").some((s) => s === "." || s === "..")) {
    return { ok: false, status: 400, message: "bad opencode path" };
  }
  const route = routeKey(path);
  const wrongId = badId(path);
  if (wrongId) return { ok: false, status: 400, message: wrongId };
  if (fileOutsideWorktree(route, input.query)) return { ok: false, status: 400, message: "path must be inside the chat's worktree" };
  if (blocked.some(([m, re]) => (m === "*" || m === method) && re.test(route))) {
    return { ok: false, status: 403, message: `${method} ${path} is not allowed through the box` };
  }
  const dirs = [...new Set(input.directories)];
  if (dirs.length > 1) return { ok: false, status: 400, message: "directory query and header disagree" };
  const directory = dirs[0];
  if (directory !== undefined && !isChatWorktree(directory)) {
    return { ok: false, status: 403, message: "directory is not a chat worktree" };
  }
  const sessionId = sessionIdIn(path);
  if (sessionId) return { ok: true, directory, sessionId };
  if (directory !== undefined) return { ok: true, directory };
  if (method === "GET" && directoryless.has(route)) return { ok: true };
  return { ok: false, status: 403, message: "a chat's directory is required for this route" };
}

/** Deletes credential fields from a /provider-like answer, wherever they nest. */
export function redactProviders(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactProviders);
  if (!value || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (k === "key" || k === "apiKey" || k === "headers") continue;
    out[k] = redactProviders(v);
  }
  return out;
}
