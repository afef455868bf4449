import { Hono, type Context } from "hono";
import { proxy } from "hono/proxy";
import { ApiError } from "../../lib/api-error.ts";
import { checkOcRequest, redactProviders, redactedRoutes } from "../opencode/oc-guard.ts";
import { endQuietlyOnClientAbort } from "../../lib/streams.ts";
import type { BoxServices } from "../services.ts";

const STRIPPED_QUERY = ["workspace", "auth_token", "directory"];
const STRIPPED_HEADERS = ["authorization", "cookie", "x-opencode-workspace", "x-opencode-directory", "host"];

/** opencode's own API, streamed both ways, behind the guards of oc-guard.ts. */
export const ocProxy = (box: BoxServices) => {
  const sessionDirs = new Map<string, string>();

  async function sessionDirectory(sessionId: string): Promise<string | undefined> {
    const chat = await box.store.bySession(sessionId);
    if (chat) return chat.worktree;
    const cached = sessionDirs.get(sessionId);
    if (cached) return cached;
    // Child sessions (subagents, forks) belong to no chat row: ask opencode where they live.
    const res = await fetch(`${box.opencode.url}/session/${sessionId}`, { headers: { authorization: box.opencode.authHeader } }).catch(() => undefined);
    if (!res?.ok) return undefined;
    const dir = ((await res.json()) as { directory?: string }).directory;
    if (dir) sessionDirs.set(sessionId, dir);
    return dir;
  }

  async function handle(c: Context) {
    const url = new URL(c.req.url);
    const path = safeDecode(url.pathname.replace(/^\/oc/, "") || "/");
    const directories = [url.searchParams.get("directory"), c.req.header("x-opencode-directory")]
      .filter((d): d is string => d !== null && d !== undefined)
      .map(safeDecode);
    const worktrees = new Set((await box.store.list()).map((chat) => chat.worktree));
    const verdict = checkOcRequest({ method: c.req.method, path, directories }, (d) => worktrees.has(d));
    if (!verdict.ok) throw new ApiError(verdict.status, verdict.status === 403 ? "forbidden" : "bad_request", verdict.message);
    if (verdict.sessionId) {
      const dir = await sessionDirectory(verdict.sessionId);
      if (dir === undefined) throw new ApiError(404, "not_found", `no session ${verdict.sessionId}`);
      if (!worktrees.has(dir)) throw new ApiError(403, "forbidden", "session is not in a chat worktree");
    }
    if (!box.opencode.up) throw new ApiError(503, "opencode_unavailable", "opencode is restarting; try again shortly");

    for (const key of STRIPPED_QUERY) url.searchParams.delete(key);
    if (verdict.directory) url.searchParams.set("directory", verdict.directory);
    const target = `${box.opencode.url}${path}${url.search}`;
    const headers = Object.fromEntries(STRIPPED_HEADERS.map((h) => [h, undefined]));
    const res = await proxy(target, { raw: c.req.raw, headers: { ...headers, authorization: box.opencode.authHeader } });
    if (redactedRoutes.has(path) && res.ok) return c.json(redactProviders(await res.json()) as object);
    return endQuietlyOnClientAbort(res, c.req.raw.signal);
  }

  return new Hono().all("/*", handle);
};

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new ApiError(400, "bad_request", "bad percent-encoding");
  }
}
