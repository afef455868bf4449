import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { execa, type ResultPromise } from "execa";

export type ScratchOpencode = {
  /** e.g. http://127.0.0.1:PORT, no trailing slash */
  url: string;
  /** value for the Authorization header */
  authHeader: string;
  /** fetch against opencode with the auth header set */
  fetch(pathAndQuery: string, init?: RequestInit): Promise<Response>;
  /** stdout + stderr so far, for failure messages */
  output(): string;
  stop(): Promise<void>;
};

export const OPENCODE_BIN =
  process.env.OPENCODE_BIN ??
  fileURLToPath(new URL("../../node_modules/opencode-linux-x64/bin/opencode", import.meta.url));

/** Starts the real opencode binary with temp XDG homes and the given config; stop() also removes the homes. */
export async function startScratchOpencode(opts: { config: object; env?: Record<string, string> }): Promise<ScratchOpencode> {
  const home = await mkdtemp(path.join(os.tmpdir(), "ocweb-scratch-oc-"));
  const port = await freePort();
  const password = `pw-${Math.random().toString(36).slice(2)}`;
  const authHeader = `Basic ${Buffer.from(`opencode:${password}`).toString("base64")}`;
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: path.join(home, "home"),
    XDG_DATA_HOME: path.join(home, "data"),
    XDG_CONFIG_HOME: path.join(home, "config"),
    XDG_STATE_HOME: path.join(home, "state"),
    XDG_CACHE_HOME: path.join(home, "cache"),
    OPENCODE_DISABLE_MODELS_FETCH: "1",
    OPENCODE_DISABLE_AUTOUPDATE: "1",
    OPENCODE_DISABLE_LSP_DOWNLOAD: "1",
    OPENCODE_DISABLE_SHARE: "1",
    OPENCODE_SERVER_PASSWORD: password,
    OPENCODE_CONFIG_CONTENT: JSON.stringify(opts.config),
    ...opts.env,
  };
  let out = "";
  const child = execa(OPENCODE_BIN, ["serve", "--hostname", "127.0.0.1", "--port", String(port)], {
    cwd: home,
    env,
    extendEnv: false,
    detached: true,
    stdin: "ignore",
    reject: false,
    cleanup: true,
  });
  child.stdout?.on("data", (c: Buffer) => void (out += c.toString()));
  child.stderr?.on("data", (c: Buffer) => void (out += c.toString()));

  const url = `http://127.0.0.1:${port}`;
  const authedFetch = (p: string, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    headers.set("authorization", authHeader);
    return fetch(`${url}${p}`, { ...init, headers });
  };
  const stop = async () => {
    await killGroup(child);
    await rm(home, { recursive: true, force: true });
  };
  try {
    await waitHealthy(authedFetch, child);
  } catch (err) {
    await stop();
    throw new Error(`opencode did not become healthy: ${(err as Error).message}\n${out}`);
  }
  return { url, authHeader, fetch: authedFetch, output: () => out, stop };
}

async function waitHealthy(f: (p: string, i?: RequestInit) => Promise<Response>, child: ResultPromise) {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}`);
    // A fetch sent while the port is still opening has been seen to hang: bound each attempt.
    const res = await f("/global/health", { signal: AbortSignal.timeout(1_000) }).catch(() => undefined);
    if (res?.ok) return;
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error("timed out after 30 s");
}

/** SIGTERM to the process group, SIGKILL after 3 s (opencode has been seen to ignore SIGTERM). */
async function killGroup(child: ResultPromise) {
  const pid = child.pid;
  if (pid === undefined || child.exitCode !== null) return;
  const signal = (s: NodeJS.Signals) => {
    try {
      process.kill(-pid, s);
    } catch {
      // already gone
    }
  };
  signal("SIGTERM");
  const exited = await Promise.race([child.then(() => true), new Promise((r) => setTimeout(() => r(false), 3_000))]);
  if (!exited) {
    signal("SIGKILL");
    await child;
  }
}

export function freePort() {
  return new Promise<number>((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export type OpencodeEvent = { type: string; properties: Record<string, unknown> };

/** Subscribes to GET /event?directory=…; waitFor() resolves with the first matching event seen since subscribing. */
export async function subscribeEvents(oc: ScratchOpencode, directory: string) {
  const ctrl = new AbortController();
  const res = await oc.fetch(`/event?directory=${encodeURIComponent(directory)}`, { signal: ctrl.signal });
  if (!res.ok || !res.body) throw new Error(`GET /event answered ${res.status}`);
  const seen: OpencodeEvent[] = [];
  const waiters = new Set<() => void>();
  void (async () => {
    const decoder = new TextDecoder();
    let buf = "";
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
      buf += decoder.decode(chunk, { stream: true });
      const frames = buf.split("\n\n");
      buf = frames.pop() ?? "";
      for (const frame of frames) {
        const data = frame.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trim()).join("\n");
        if (data) seen.push(JSON.parse(data) as OpencodeEvent);
      }
      for (const w of waiters) w();
    }
  })().catch(() => undefined);

  const waitFor = (match: (e: OpencodeEvent) => boolean, timeoutMs = 30_000) =>
    new Promise<OpencodeEvent>((resolve, reject) => {
      const check = () => {
        const hit = seen.find(match);
        if (!hit) return;
        cleanup();
        resolve(hit);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no matching event in ${timeoutMs} ms; saw ${seen.map((e) => e.type).join(", ")}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });
  return { seen, waitFor, close: () => ctrl.abort() };
}
