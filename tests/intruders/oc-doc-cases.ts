import type { Ctx } from "./api-cases.ts";

const METHODS = new Set(["get", "post", "put", "patch", "delete"]);
export type OcRoute = { method: string; path: string };

/** opencode's own route table: its OpenAPI document, as the box serves it (GET /oc/doc). */
export async function opencodeRoutes(ctx: Ctx): Promise<OcRoute[]> {
  const res = await ctx.stack.box.call("GET", "/oc/doc");
  if (res.status !== 200) throw new Error(`GET /oc/doc: ${res.status} ${res.text.slice(0, 200)}`);
  const doc = res.json as { paths: Record<string, Record<string, unknown>> };
  return Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.keys(ops).filter((m) => METHODS.has(m)).map((m) => ({ method: m.toUpperCase(), path })));
}

const fill = (path: string, sessionId: string) =>
  path.replace("{sessionID}", sessionId).replace(/\{(\w+)\}/g, (_, name: string) => `${name.toLowerCase()}_intruder`).replace(/\*$/, "x");

/**
 * Every opencode route through /api/box/oc as mallory, with her own chat's directory: those about a
 * session get alice's session (404, as for a missing one, percent-encoded too); the rest act on her own
 * worktree or are refused, and carry nothing of alice's. Answers the routes that said 2xx to a write.
 */
export async function malloryOcSweep(ctx: Ctx, phase: string, routes: OcRoute[]): Promise<string[]> {
  const { worker } = ctx.stack;
  const { victim, own } = ctx.v;
  const headers = { cookie: `ocweb_session=${ctx.stack.cookies.mallory}`, origin: worker.url, "content-type": "application/json" };
  const dir = `directory=${encodeURIComponent(own.directory)}`;
  const writes: string[] = [];
  for (const r of routes) {
    const body = r.method === "GET" ? undefined : "{}";
    const label = `${r.method} ${r.path}`;
    if (r.path.includes("{sessionID}")) {
      for (const sid of [victim.sessionId, `%73${victim.sessionId.slice(1)}`]) {
        const url = `${worker.url}/api/box/oc${fill(r.path, sid)}?${dir}`;
        // /session/… is the worker's to answer (404: no such session of hers); elsewhere the box refuses the route.
        await ctx.ledger.try({ phase, label, method: r.method, url, headers, body, expect: r.path.startsWith("/session/") ? 404 : [403, 404] });
      }
      continue;
    }
    const url = `${worker.url}/api/box/oc${fill(r.path, victim.sessionId)}?${dir}`;
    const res = await ctx.ledger.try({ phase, label, method: r.method, url, headers, body, leakCheck: true });
    if (r.method !== "GET" && res.status < 300) writes.push(`${label} → ${res.status}`);
  }
  return writes;
}
