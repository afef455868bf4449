import type { IncomingHttpHeaders, ServerResponse } from "node:http";
import type { HttpBindings } from "@hono/node-server";
import { RESPONSE_ALREADY_SENT } from "@hono/node-server/utils/response";
import { Hono, type Context } from "hono";
import { proxy } from "hono/proxy";
import { LRUCache } from "lru-cache";
import { ApiError } from "../../lib/api-error.ts";
import { checkOcRequest, redactProviders, redactedRoutes, routeKey } from "../opencode/oc-guard.ts";
import { endQuietlyOnClientAbort } from "../../lib/streams.ts";
import { retryInterrupted } from "../opencode/retry-interrupted.ts";
import { contentType, pipeToClient, readUpstream, webResponse } from "../opencode/read-pipe.ts";
import type { BoxServices } from "../services.ts";

/** `scope=project` lists every worktree's sessions; `location[…]` picks another directory. */
const STRIPPED_QUERY = ["workspace", "auth_token", "directory", "scope"];
const strippedKey = (key: string) => STRIPPED_QUERY.includes(key.toLowerCase()) || key.toLowerCase().startsWith("location");
const STRIPPED_HEADERS = ["authorization", "cookie", "x-opencode-workspace", "x-opencode-directory", "host"];

/**
 * Event streams stay on fetch: piped raw, their frames reached the worker later under load
 * (bench:load, 20 chats × 3 subscribers: added delay p50 153 ms raw, 74 ms through fetch).
 */
const EVENT_STREAMS = new Set(["/event", "/global/event"]);

/** opencode's own API, streamed both ways, behind the guards of oc-guard.ts. */
export const ocProxy = (box: BoxServices) => {
  const childSessionDirs = new LRUCache<string, string>({ max: 1_000 });

  /** The worktree a session works in; child sessions (subagents, forks) have no chat row of their own. */
  async function sessionDirectory(sessionId: string): Promise<string | undefined> {
    const chat = await box.store.placeOfSession(sessionId);
    if (chat) return chat.worktree;
    const cached = childSessionDirs.get(sessionId);
    if (cached) return box.store.isWorktree(cached).then((ok) => (ok ? cached : undefined));
    const res = await fetch(`${box.opencode.url}/session/${sessionId}`, { headers: { authorization: box.opencode.authHeader } }).catch(() => undefined);
    if (!res?.ok) return undefined;
    const dir = ((await res.json()) as { directory?: string }).directory;
    if (!dir || !(await box.store.isWorktree(dir))) return undefined;
    childSessionDirs.set(sessionId, dir);
    return dir;
  }

  async function handle(c: Context) {
    const url = new URL(c.req.url);
    const path = safeDecode(url.pathname.replace(/^\/oc/, "") || "/");
    const directories = [url.searchParams.get("directory"), c.req.header("x-opencode-directory")]
      .filter((d): d is string => d !== null && d !== undefined)
      .map(safeDecode);
    const distinct = [...new Set(directories)];
    const known = distinct.length === 1 && (await box.store.isWorktree(distinct[0]!));
    const verdict = checkOcRequest({ method: c.req.method, path, directories, query: url.searchParams }, () => known);
    if (!verdict.ok) throw new ApiError(verdict.status, verdict.status === 403 ? "forbidden" : "bad_request", verdict.message);
    let workDir = verdict.directory;
    if (verdict.sessionId) {
      // opencode runs a session's routes in the session's own worktree, whatever directory came along.
      workDir = await sessionDirectory(verdict.sessionId);
      if (workDir === undefined || (verdict.directory !== undefined && workDir !== verdict.directory)) {
        throw new ApiError(403, "forbidden", `session ${verdict.sessionId} is not in a chat worktree or not in that one`);
      }
    }
    if (!box.opencode.up) throw new ApiError(503, "opencode_unavailable", "opencode is restarting; try again shortly");
    if (workDir) await box.chats.restoreWorktreeAt(workDir);

    for (const key of [...url.searchParams.keys()]) if (strippedKey(key)) url.searchParams.delete(key);
    if (verdict.directory) url.searchParams.set("directory", verdict.directory);
    const target = `${box.opencode.url}${path}${url.search}`;
    if ((c.req.method === "GET" || c.req.method === "HEAD") && !EVENT_STREAMS.has(path)) return read(c, target, path, workDir);
    const headers = Object.fromEntries(STRIPPED_HEADERS.map((h) => [h, undefined]));
    const res = await proxy(target, { raw: c.req.raw, headers: { ...headers, authorization: box.opencode.authHeader } });
    if (res.headers.get("content-type")?.includes("text/html")) {
      await res.body?.cancel();
      throw noRoute(c.req.method, path);
    }
    return endQuietlyOnClientAbort(res, c.req.raw.signal);
  }

  /** The hot path (message lists, files, statuses): opencode's answer piped to the client socket. */
  async function read(c: Context<{ Bindings: Partial<HttpBindings> }>, target: string, path: string, workDir: string | undefined) {
    const { method } = c.req;
    const client = c.env?.outgoing;
    const redacted = redactedRoutes.has(routeKey(path));
    const headers: IncomingHttpHeaders = { ...(c.env?.incoming?.headers ?? Object.fromEntries(c.req.raw.headers)) };
    for (const h of STRIPPED_HEADERS) delete headers[h];
    headers.authorization = box.opencode.authHeader;
    // On loopback, compressing costs opencode ~2.5 ms a message list and saves nothing; the edge compresses for the phone.
    delete headers["accept-encoding"];
    const signal = client ? closed(client) : c.req.raw.signal;
    const resetStuck = workDir === undefined ? undefined : () => box.chats.resetStuckInstance(workDir);
    const res = await retryInterrupted(() => readUpstream(target, method, headers, signal), undefined, resetStuck);
    if (contentType(res).includes("text/html")) {
      res.resume();
      throw noRoute(method, path);
    }
    // Only a GET carries the listing; a HEAD comes back without a body.
    if (redacted && res.statusCode === 200 && method === "GET") {
      const listing = JSON.parse(Buffer.concat(await res.toArray()).toString("utf8")) as unknown;
      return c.json(redactProviders(listing) as object);
    }
    if (!client) return webResponse(res, method);
    pipeToClient(res, client);
    return RESPONSE_ALREADY_SENT;
  }

  return new Hono().all("/*", handle);
};

/** opencode answers an unknown route with its web app; through here that is no route at all. */
const noRoute = (method: string, path: string) => new ApiError(404, "not_found", `no opencode route ${method} ${path}`);

function closed(client: ServerResponse): AbortSignal {
  const gone = new AbortController();
  client.once("close", () => gone.abort());
  return gone.signal;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new ApiError(400, "bad_request", "bad percent-encoding");
  }
}
