import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { Miniflare, type Request as MiniflareRequest } from "miniflare";
import { dbFrom } from "../../worker/db/client.ts";
import { startSqld } from "./sqld.ts";

const BUILD_DIR = path.resolve(process.env.OCWEB_WORKER_BUILD ?? ".data/worker-build");
let built: Promise<string> | undefined;

/**
 * `wrangler deploy --dry-run` bundles the worker exactly as a deploy would. Run once per `vitest run`
 * by tests/global-setup.ts; test files reuse that bundle.
 */
export function buildWorker(): Promise<string> {
  built ??= (async () => {
    mkdirSync("ui/dist", { recursive: true });
    await execa("npx", ["wrangler", "deploy", "--dry-run", "--outdir", BUILD_DIR], { env: { WRANGLER_SEND_METRICS: "false", CI: "1" } });
    return path.join(BUILD_DIR, "index.js");
  })();
  return built;
}

function builtWorker(): Promise<string> {
  const script = path.join(BUILD_DIR, "index.js");
  return existsSync(script) ? Promise.resolve(script) : buildWorker();
}

export type TestWorker = Awaited<ReturnType<typeof startTestWorker>>;
/** Answers the worker's outgoing requests to hosts it stands in for; undefined lets a request go out as it is. */
export type Outbound = (req: Request) => Promise<Response | undefined> | Response | undefined;
type WorkerOptions = {
  bindings?: Record<string, string>;
  boxUrl?: string;
  boxToken?: string;
  port?: number;
  outbound?: Outbound;
  /**
   * Also serve the worker on its own loopback socket (`directUrl`), as workerd would in production: without
   * Miniflare's entry worker in front (a second isolate, and gzip when the client accepts it) and without
   * its CF-Connecting-IP stripping worker behind (a third, on every outgoing fetch). For benchmarks.
   */
  directPort?: number;
};

/** The bundled worker in real workerd (Miniflare) on a loopback port, over a real libsql server. */
export async function startTestWorker(opts: WorkerOptions = {}) {
  const [scriptPath, sqld] = await Promise.all([builtWorker(), startSqld()]);
  const mf = new Miniflare({
    modules: [{ type: "ESModule", path: scriptPath }],
    modulesRoot: BUILD_DIR,
    compatibilityDate: "2026-04-26",
    compatibilityFlags: ["nodejs_compat"],
    host: "127.0.0.1",
    port: opts.port ?? 0,
    bindings: {
      DATABASE_URL: sqld.url,
      SESSION_SECRET: "test-session-secret-0123456789abcdef",
      ...(opts.boxUrl ? { BOX_URL: opts.boxUrl, BOX_TOKEN: opts.boxToken ?? "" } : {}),
      ...opts.bindings,
    },
    ...(opts.outbound ? { outboundService: routeOutbound(opts.outbound) } : {}),
    ...(opts.directPort ? { unsafeDirectSockets: [{ host: "127.0.0.1", port: opts.directPort }], stripCfConnectingIp: false } : {}),
  });
  const url = (await mf.ready).toString().replace(/\/$/, "");
  const directUrl = opts.directPort ? `http://127.0.0.1:${opts.directPort}` : url;
  const cookies = new Map<string, string>();
  const jar = {
    get: (name: string) => cookies.get(name),
    clear: () => cookies.clear(),
    set: (name: string, value: string) => cookies.set(name, value),
  };
  const doFetch = async (route: string, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    const method = (init.method ?? "GET").toUpperCase();
    if (method !== "GET" && method !== "HEAD" && !headers.has("origin")) headers.set("origin", url);
    if (cookies.size > 0 && !headers.has("cookie")) headers.set("cookie", [...cookies].map(([k, v]) => `${k}=${v}`).join("; "));
    const res = await fetch(url + route, { ...init, headers, redirect: "manual" });
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(";");
      const [name, value] = pair!.split("=") as [string, string];
      const expired = attrs.some((a) => /max-age=0\b/i.test(a.trim()));
      if (expired || value === "") cookies.delete(name.trim());
      else cookies.set(name.trim(), value);
    }
    return res;
  };
  return {
    url,
    directUrl,
    fetch: doFetch,
    jar,
    db: dbFrom(sqld.client),
    sqlClient: sqld.client,
    async json<T>(route: string, init: Omit<RequestInit, "body"> & { body?: unknown } = {}) {
      const body = init.body === undefined || typeof init.body === "string" ? init.body : JSON.stringify(init.body);
      const res = await doFetch(route, { ...init, body: body as BodyInit | undefined, headers: { "content-type": "application/json", ...init.headers } });
      const text = await res.text();
      return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T, text };
    },
    async scheduled(time = Date.now()) {
      const worker = await mf.getWorker();
      await worker.scheduled({ scheduledTime: new Date(time), cron: "* * * * *" });
    },
    async signInDev(login = "dev") {
      const res = await doFetch(`/auth/dev?login=${encodeURIComponent(login)}`);
      if (res.status !== 302) throw new Error(`dev sign-in failed: ${res.status} ${await res.text()}`);
    },
    async dispose() {
      await mf.dispose();
      await sqld.stop();
    },
  };
}

/** Miniflare's outboundService: each fetch() of the worker, to `outbound` first, else out to the network unchanged. */
function routeOutbound(outbound: Outbound) {
  return async (req: MiniflareRequest): Promise<Response> => {
    const hasBody = req.method !== "GET" && req.method !== "HEAD";
    // workerd follows redirects itself, so a 3xx goes back to it as it is.
    const request = new Request(req.url, { method: req.method, headers: [...req.headers], body: hasBody ? await req.arrayBuffer() : null, redirect: "manual" });
    return (await outbound(request)) ?? fetch(request);
  };
}
