import { sessionIdIn } from "../../lib/names.ts";

/**
 * What the box lets through to opencode (ARCHITECTURE.md "ANY /oc/*"). Pure: the route supplies
 * lookups, this decides.
 */
const blocked: Array<[method: string | "*", pattern: RegExp]> = [
  ["POST", /^\/global\/(dispose|upgrade)$/],
  ["POST", /^\/instance\/dispose$/],
  ["*", /^\/(global\/)?config$/], // read exposes provider keys; writes dispose instances
  ["*", /^\/pty(\/|$)/],
  ["*", /^\/tui(\/|$)/],
  ["*", /^\/auth(\/|$)/],
  ["*", /^\/provider\/[^/]+\/oauth(\/|$)/],
  ["*", /^\/experimental\/(control-plane|worktree|workspace|console)(\/|$)/],
  ["*", /^\/sync\/(?!history$)/],
  ["POST", /^\/project\/git\/init$/],
  ["POST", /^\/mcp(\/|$)/], // adding an MCP server runs a command on the box
  ["DELETE", /^\/mcp(\/|$)/],
];

/** Read-only routes that need no chat directory (they run in the box's own default instance). */
const directoryless = new Set(["/global/health", "/global/event", "/provider", "/config/providers", "/agent", "/doc"]);

/** Routes whose answer carries provider credentials; the proxy strips them. */
export const redactedRoutes = new Set(["/provider", "/config/providers"]);

export type GuardInput = {
  method: string;
  path: string; // opencode path, after /oc, percent-decoded
  directories: string[]; // from ?directory= and x-opencode-directory, decoded
};

export type GuardVerdict =
  | { ok: true; directory?: string; sessionId?: string }
  | { ok: false; status: 400 | 403; message: string };

export function checkOcRequest(input: GuardInput, isChatWorktree: (dir: string) => boolean): GuardVerdict {
  const { method, path } = input;
  if (!/^(\/[A-Za-z0-9_.:@-]+)*\/?$/.test(path) || path.split("/").some((s) => s === "." || s === "..")) {
    return { ok: false, status: 400, message: "bad opencode path" };
  }
  if (blocked.some(([m, re]) => (m === "*" || m === method) && re.test(path))) {
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
  if (method === "GET" && directoryless.has(path.replace(/\/$/, ""))) return { ok: true };
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
