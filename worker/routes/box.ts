import { and, eq } from "drizzle-orm";
import { Hono, type Context } from "hono";
import { z } from "zod";
import { forbidden, notFound } from "../../lib/api-error.ts";
import { endQuietlyOnClientAbort } from "../../lib/streams.ts";
import { validate } from "../../lib/validate.ts";
import { ownerSchema, repoNameSchema, sessionIdIn } from "../../lib/names.ts";
import { boxClient } from "../box/client.ts";
import type { AppEnv } from "../context.ts";
import type { Db } from "../db/client.ts";
import { ownershipCache } from "../hot-path-cache.ts";
import { chats } from "../db/schema.ts";

/** Read-only opencode routes that need no chat (model and agent pickers). */
const directoryless = new Set(["/provider", "/config/providers", "/agent"]);
const PASSED_HEADERS = ["content-type", "accept", "last-event-id"];

/**
 * /api/box/oc/* → the box's /oc/*, for the signed-in user's own chats only: the directory must be
 * one of their chats' worktrees and a session one of their chats' sessions. Streams both ways.
 */
async function passThrough(c: Context<AppEnv>) {
  const url = new URL(c.req.url);
  const path = url.pathname.replace(/^\/api\/box\/oc/, "") || "/";
  const db = c.get("db");
  const userId = c.get("user").id;
  const directory = url.searchParams.get("directory") ?? decodeHeader(c.req.header("x-opencode-directory"));
  const session = sessionIdIn(path);
  let chatDirectory: string | undefined;
  if (session) {
    chatDirectory = await ownedDirectory(db, userId, "session", session);
    if (chatDirectory === undefined) throw notFound(`no session ${session}`);
  }
  if (directory !== undefined) {
    if ((await ownedDirectory(db, userId, "directory", directory)) === undefined) throw forbidden("that directory is not one of your chats");
    chatDirectory = directory;
  }
  if (!chatDirectory && !(c.req.method === "GET" && directoryless.has(path))) throw forbidden("a chat's directory is required for this route");

  const query = new URLSearchParams(url.searchParams);
  query.delete("directory");
  if (chatDirectory) query.set("directory", chatDirectory);
  const headers = new Headers();
  for (const h of PASSED_HEADERS) {
    const v = c.req.header(h);
    if (v) headers.set(h, v);
  }
  const hasBody = c.req.method !== "GET" && c.req.method !== "HEAD";
  const res = await boxClient(c.env, c.get("deps").boxFetch).stream(`/oc${path}?${query}`, {
    method: c.req.method,
    headers,
    body: hasBody ? c.req.raw.body : undefined,
    signal: c.req.raw.signal,
    ...(hasBody ? { duplex: "half" } : {}),
  } as RequestInit);
  const out = new Headers(res.headers);
  for (const h of ["content-encoding", "content-length", "transfer-encoding", "connection"]) out.delete(h);
  if (out.get("content-type")?.includes("text/event-stream")) out.set("cache-control", "no-cache, no-transform");
  return endQuietlyOnClientAbort(new Response(res.body, { status: res.status, headers: out }), c.req.raw.signal);
}

/** The directory of the user's chat with this opencode session or worktree, if there is one. */
async function ownedDirectory(db: Db, userId: string, by: "session" | "directory", value: string): Promise<string | undefined> {
  const key = `${userId}\n${by}\n${value}`;
  const hit = ownershipCache.get(key);
  if (hit !== undefined) return hit;
  const column = by === "session" ? chats.sessionId : chats.directory;
  const chat = await db.query.chats.findFirst({ columns: { directory: true }, where: and(eq(column, value), eq(chats.userId, userId)) });
  if (!chat?.directory) return undefined;
  ownershipCache.set(key, chat.directory);
  return chat.directory;
}

function decodeHeader(v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
}

const repoParam = z.object({ owner: ownerSchema, name: repoNameSchema });
const pidParam = z.object({ pid: z.coerce.number().int().min(2).max(4_194_304) });
const gcBody = z.object({ dryRun: z.boolean().optional() });

/** The box dashboard: disk, clones, GC, orphan processes (any signed-in user owns the box). */
export const boxRoutes = new Hono<AppEnv>()
  .get("/disk", async (c) => c.json(await box(c).call("GET", "/mgmt/disk")))
  .get("/repos", async (c) => c.json(await box(c).call("GET", "/mgmt/repos")))
  .delete("/repos/:owner/:name", validate("param", repoParam), async (c) => {
    const { owner, name } = c.req.valid("param");
    await box(c).call("DELETE", `/mgmt/repos/${owner}/${name}`);
    return c.body(null, 204);
  })
  .post("/gc", validate("json", gcBody), async (c) => c.json(await box(c).call("POST", "/mgmt/gc", c.req.valid("json"), 120_000)))
  .get("/processes", async (c) => c.json(await box(c).call("GET", "/mgmt/processes")))
  .post("/processes/:pid/kill", validate("param", pidParam), async (c) => {
    await box(c).call("POST", `/mgmt/processes/${c.req.valid("param").pid}/kill`);
    return c.body(null, 204);
  })
  .all("/oc/*", passThrough);

const box = (c: Context<AppEnv>) => boxClient(c.env, c.get("deps").boxFetch);
