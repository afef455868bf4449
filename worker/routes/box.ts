import { and, eq } from "drizzle-orm";
import { Hono, type Context } from "hono";
import { z } from "zod";
import { badRequest, forbidden, notFound } from "../../lib/api-error.ts";
import { endQuietlyOnClientAbort } from "../../lib/streams.ts";
import { validate } from "../../lib/validate.ts";
import { ownerSchema, repoNameSchema, sessionIdIn } from "../../lib/names.ts";
import { boxForChat, boxIdSchema, dashboardBox } from "../boxes/resolve.ts";
import { boxScope, type AppEnv } from "../context.ts";
import type { Db } from "../db/client.ts";
import { ownershipCache } from "../hot-path-cache.ts";
import { chats } from "../db/schema.ts";

/** Read-only opencode routes that need no chat (model and agent pickers). */
const directoryless = new Set(["/provider", "/config/providers", "/agent"]);
const PASSED_HEADERS = ["content-type", "accept", "last-event-id"];

/**
 * /api/box/oc/* → the /oc/* of the chat's own box, for the signed-in user's own chats only: the
 * directory must be one of their chats' worktrees and a session one of their chats' sessions.
 * The routes that need no chat go to `?box=<id>` (default: the env box, else the latest live box).
 * Streams both ways.
 */
async function passThrough(c: Context<AppEnv>) {
  const url = new URL(c.req.url);
  const path = url.pathname.replace(/^\/api\/box\/oc/, "") || "/";
  const db = c.get("db");
  const userId = c.get("user").id;
  const directory = url.searchParams.get("directory") ?? decodeHeader(c.req.header("x-opencode-directory"));
  const session = sessionIdIn(path);
  let owned: Owned | undefined;
  if (session) {
    owned = await ownedChat(db, userId, "session", session);
    if (owned === undefined) throw notFound(`no session ${session}`);
  }
  if (directory !== undefined) {
    const byDirectory = await ownedChat(db, userId, "directory", directory);
    if (byDirectory === undefined) throw forbidden("that directory is not one of your chats");
    if (owned && owned.boxId !== byDirectory.boxId) throw forbidden("that session and that directory are on different boxes");
    owned = byDirectory;
  }
  if (!owned && !(c.req.method === "GET" && directoryless.has(path))) throw forbidden("a chat's directory is required for this route");
  const requested = url.searchParams.get("box");
  if (!owned && requested !== null && !boxIdSchema.safeParse(requested).success) throw badRequest(`no box ${requested}`);
  const box = owned
    ? await boxForChat(boxScope(c), owned, { cached: true })
    : await dashboardBox(boxScope(c), userId, requested ?? undefined);

  const query = new URLSearchParams(url.searchParams);
  query.delete("directory");
  query.delete("box");
  if (owned) query.set("directory", owned.directory);
  const headers = new Headers();
  for (const h of PASSED_HEADERS) {
    const v = c.req.header(h);
    if (v) headers.set(h, v);
  }
  const hasBody = c.req.method !== "GET" && c.req.method !== "HEAD";
  const res = await box.stream(`/oc${path}?${query}`, {
    method: c.req.method,
    headers,
    body: hasBody ? c.req.raw.body : undefined,
    signal: c.req.raw.signal,
    ...(hasBody ? { duplex: "half" } : {}),
  } as RequestInit);
  const out = new Headers(res.headers);
  for (const h of ["content-encoding", "content-length", "transfer-encoding", "connection"]) out.delete(h);
  const sse = out.get("content-type")?.includes("text/event-stream");
  if (sse) out.set("cache-control", "no-cache, no-transform");
  const response = new Response(res.body, { status: res.status, headers: out });
  // Any other answer keeps the box's own body, which workerd pipes without running JS per chunk.
  return sse ? endQuietlyOnClientAbort(response, c.req.raw.signal) : response;
}

type Owned = { directory: string; boxId: string | null };

/** The worktree and box of the user's chat with this opencode session or worktree, if there is one. */
async function ownedChat(db: Db, userId: string, by: "session" | "directory", value: string): Promise<Owned | undefined> {
  const key = `${userId}\n${by}\n${value}`;
  const hit = ownershipCache.get(key);
  if (hit !== undefined) return JSON.parse(hit) as Owned;
  const column = by === "session" ? chats.sessionId : chats.directory;
  const chat = await db.query.chats.findFirst({ columns: { directory: true, boxId: true }, where: and(eq(column, value), eq(chats.userId, userId)) });
  if (!chat?.directory) return undefined;
  const owned = { directory: chat.directory, boxId: chat.boxId };
  ownershipCache.set(key, JSON.stringify(owned)); // a chat never changes owner, worktree or box
  return owned;
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
/** GC names its box in the body (`?box=` too would make the typed client's older callers send a query). */
const gcBody = z.object({ dryRun: z.boolean().optional(), box: boxIdSchema.optional() });
const boxQuery = validate("query", z.object({ box: boxIdSchema.optional() }));

/**
 * The box dashboard: disk, clones, GC, orphan processes of `?box=<id>` (default: the env box, which
 * any signed-in user owns, else the user's latest live box).
 */
export const boxRoutes = new Hono<AppEnv>()
  .get("/disk", boxQuery, async (c) => c.json(await (await box(c, c.req.valid("query").box)).call("GET", "/mgmt/disk")))
  .get("/repos", boxQuery, async (c) => c.json(await (await box(c, c.req.valid("query").box)).call("GET", "/mgmt/repos")))
  .delete("/repos/:owner/:name", validate("param", repoParam), boxQuery, async (c) => {
    const { owner, name } = c.req.valid("param");
    await (await box(c, c.req.valid("query").box)).call("DELETE", `/mgmt/repos/${owner}/${name}`);
    return c.body(null, 204);
  })
  .post("/gc", validate("json", gcBody), async (c) => {
    const { box: id, ...body } = c.req.valid("json");
    return c.json(await (await box(c, id)).call("POST", "/mgmt/gc", body, 120_000));
  })
  .get("/processes", boxQuery, async (c) => c.json(await (await box(c, c.req.valid("query").box)).call("GET", "/mgmt/processes")))
  .post("/processes/:pid/kill", validate("param", pidParam), boxQuery, async (c) => {
    await (await box(c, c.req.valid("query").box)).call("POST", `/mgmt/processes/${c.req.valid("param").pid}/kill`);
    return c.body(null, 204);
  })
  .all("/oc/*", passThrough);

const box = (c: Context<AppEnv>, id: string | undefined) => dashboardBox(boxScope(c), c.get("user").id, id);
