import { randomBytes } from "node:crypto";
import { EventEmitter, once } from "node:events";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { execa, type ResultPromise } from "execa";
import { isRunning, readAll, readProc } from "../processes/proc.ts";

export type SupervisorOptions = {
  bin: string;
  homeDir: string;
  cwd: string;
  env: Record<string, string>;
  port?: number;
  onReady?: (sup: OpencodeSupervisor) => Promise<void>;
  log?: (line: string) => void;
};

export type SupervisorEvents = {
  up: [{ version: string; pid: number }];
  down: [{ code: number | null; signal: string | null; expected: false }];
  log: [string];
};

type Exit = { code: number | null; signal: string | null };
type Run = { pid: number; sub: ResultPromise; exited: Promise<Exit>; done: boolean; expected: boolean };

const headless = {
  OPENCODE_DISABLE_MODELS_FETCH: "1",
  OPENCODE_DISABLE_AUTOUPDATE: "1",
  OPENCODE_DISABLE_LSP_DOWNLOAD: "1",
  OPENCODE_DISABLE_SHARE: "1",
};
/**
 * opencode's global config, the lowest layer: a repo's opencode.json and the operator's OPENCODE_CONFIG*
 * override it. No snapshots: the box commits every turn on the chat branch, and opencode's own
 * snapshots `git add` the whole worktree into a shadow repo before and after every step (bench:box,
 * 5,000 files: send → first streamed text 1.78 s with them, 1.26 s without).
 */
const globalConfig = { $schema: "https://opencode.ai/config.json", snapshot: false };
const spawnOptions = { extendEnv: false, detached: true, cleanup: false, stdin: "ignore", all: true, buffer: false, reject: false } as const;

/**
 * Runs one `opencode serve` on loopback, restarts it when it dies, and kills its whole tree on stop.
 * The child leads its own process group, so nothing else takes it down when the box exits: #exitHook.
 */
export class OpencodeSupervisor extends EventEmitter<SupervisorEvents> {
  readonly password = randomBytes(24).toString("base64url");
  readonly authHeader = `Basic ${Buffer.from(`opencode:${this.password}`).toString("base64")}`;
  readonly #opts: SupervisorOptions;
  #port: number | undefined;
  #run: Run | undefined;
  #starting: Promise<void> | undefined;
  #up = false;
  #version: string | undefined;
  #stopped = false;
  #failures = 0;
  #generation = 0;
  #upSince = 0;
  #timer: NodeJS.Timeout | undefined;
  readonly #tail: string[] = [];
  readonly #exitHook = () => this.#run && !this.#run.done && signalAll([-this.#run.pid, ...descendants(this.#run.pid)], "SIGKILL");

  constructor(opts: SupervisorOptions) {
    super();
    this.#opts = opts;
    this.#port = opts.port;
  }

  get url(): string {
    if (this.#port === undefined) throw new Error("opencode supervisor: url is unknown before start()");
    return `http://127.0.0.1:${this.#port}`;
  }
  get up(): boolean { return this.#up; }
  get pid(): number | undefined { return this.#run && !this.#run.done ? this.#run.pid : undefined; }
  get version(): string | undefined { return this.#version; }

  start(): Promise<void> {
    this.#starting ??= (async () => {
      this.#port ??= await freePort();
      process.on("exit", this.#exitHook);
      await this.#launch();
    })().catch((err: unknown) => {
      this.#starting = undefined;
      process.off("exit", this.#exitHook);
      throw err;
    });
    return this.#starting;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#halt();
    process.off("exit", this.#exitHook);
  }

  async restart(): Promise<void> {
    if (!this.#starting) return this.start();
    await this.#starting;
    await this.#halt();
    await this.#launch().catch((err: unknown) => {
      this.#scheduleRestart();
      throw err;
    });
  }

  /** Ends the current child and cancels any pending or in-flight automatic restart. */
  async #halt() {
    this.#generation += 1;
    clearTimeout(this.#timer);
    this.#up = false;
    if (this.#run) await this.#terminate(this.#run);
  }

  async #launch() {
    if (this.#stopped) throw new Error("opencode supervisor was stopped");
    const run = this.#spawn();
    this.#run = run;
    try {
      this.#version = await this.#waitHealthy(run);
      await this.#opts.onReady?.(this);
      if (run.done || run.expected) throw new Error("opencode exited during start-up");
    } catch (err) {
      await this.#terminate(run);
      throw err;
    }
    this.#up = true;
    this.#upSince = Date.now();
    this.emit("up", { version: this.#version, pid: run.pid });
  }

  #spawn(): Run {
    const home = this.#opts.homeDir;
    const xdg = Object.fromEntries(
      ["data", "config", "state", "cache"].map((d) => [`XDG_${d.toUpperCase()}_HOME`, path.join(home, d)]),
    ) as Record<string, string>;
    for (const dir of Object.values(xdg)) mkdirSync(dir, { recursive: true });
    mkdirSync(path.join(xdg.XDG_CONFIG_HOME!, "opencode"), { recursive: true });
    writeFileSync(path.join(xdg.XDG_CONFIG_HOME!, "opencode", "opencode.json"), JSON.stringify(globalConfig, null, 2));
    // Plain OS settings, not box config (that is env.ts's): opencode gets no other variable of the box.
    const os = Object.fromEntries(["PATH", "LANG", "TZ", "TMPDIR"].flatMap((k) => (process.env[k] ? [[k, process.env[k]]] : [])));
    const env = {
      ...os,
      HOME: home,
      ...xdg,
      ...headless,
      ...this.#opts.env,
      OPENCODE_SERVER_USERNAME: "opencode",
      OPENCODE_SERVER_PASSWORD: this.password,
    };
    const args = ["serve", "--hostname", "127.0.0.1", "--port", String(this.#port), "--print-logs", "--log-level", "WARN"];
    const sub = execa(this.#opts.bin, args, { ...spawnOptions, cwd: this.#opts.cwd, env });
    if (sub.all) createInterface({ input: sub.all, crlfDelay: Infinity }).on("line", (line) => this.#log(line));
    // once() rejects on 'error' (e.g. a missing binary), which never exits.
    const exited: Promise<Exit> = once(sub, "exit").then(
      ([code, signal]) => ({ code: code as number | null, signal: signal as string | null }),
      (err: Error) => (this.#log(`supervisor: spawn failed: ${err.message}`), { code: null, signal: null }),
    );
    const run: Run = { pid: sub.pid ?? 0, sub, exited, done: false, expected: false };
    void exited.then((exit) => this.#onExit(run, exit));
    this.#log(`supervisor: started opencode pid ${run.pid} on port ${this.#port}`);
    return run;
  }

  #onExit(run: Run, exit: Exit) {
    run.done = true;
    // Stragglers in the group (tool processes, LSPs) must not outlive their server.
    signalAll([-run.pid], "SIGKILL");
    this.#log(`supervisor: opencode pid ${run.pid} exited (code ${exit.code}, signal ${exit.signal})`);
    if (run !== this.#run || !this.#up) return; // not up yet: the start-up wait reports it
    this.#up = false;
    if (run.expected || this.#stopped) return;
    if (Date.now() - this.#upSince >= 60_000) this.#failures = 0; // it was stable: not a crash loop
    this.#scheduleRestart();
    this.emit("down", { ...exit, expected: false });
  }

  #scheduleRestart() {
    if (this.#stopped) return;
    const delay = Math.min(500 * 2 ** this.#failures, 15_000);
    this.#failures += 1;
    this.#log(`supervisor: restarting opencode in ${delay} ms`);
    const generation = this.#generation;
    this.#timer = setTimeout(() => {
      this.#launch().catch((err: unknown) => {
        this.#log(`supervisor: restart failed: ${err instanceof Error ? err.message : String(err)}`);
        // A stop() or restart() that killed this attempt owns what happens next; up = an 'up' listener threw.
        if (generation === this.#generation && !this.#up) this.#scheduleRestart();
      });
    }, delay);
  }

  async #waitHealthy(run: Run): Promise<string> {
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && !run.done && !this.#stopped) {
      // A request sent while the port is still opening has been seen to hang: short per-attempt timeout.
      const init = { headers: { Authorization: this.authHeader }, signal: AbortSignal.timeout(1000) };
      const res = await fetch(`${this.url}/global/health`, init).catch(() => undefined);
      const body = res?.ok ? ((await res.json().catch(() => ({}))) as { version?: unknown }) : undefined;
      if (body) return typeof body.version === "string" ? body.version : "unknown";
      await sleep(150);
    }
    // Let a crashed child's last lines arrive; a grandchild may hold the pipe open, hence the bound.
    if (run.done) await Promise.race([run.sub, sleep(1000)]);
    const why = run.done ? "exited before it was ready" : this.#stopped ? "was stopped" : "did not get ready in 30 s";
    throw new Error(`opencode ${why}; last output:\n${this.#tail.slice(-20).join("\n")}`);
  }

  async #terminate(run: Run) {
    run.expected = true;
    if (run.done) return;
    const before = [-run.pid, ...descendants(run.pid)];
    signalAll(before, "SIGTERM");
    await Promise.race([run.exited, sleep(3_000)]); // it has been seen to ignore SIGTERM for 25 s
    const killed = [...before, ...descendants(run.pid)];
    signalAll(killed, "SIGKILL");
    await run.exited;
    await whileRunning([...killed.filter((pid) => pid > 0), ...(await groupMembers(run.pid))], 2_000);
  }

  #log(line: string) {
    if (this.#tail.push(line) > 40) this.#tail.shift();
    this.#opts.log?.(line);
    this.emit("log", line);
  }
}

async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function signalAll(targets: number[], signal: NodeJS.Signals) {
  for (const target of targets) {
    try {
      if (target !== 0) process.kill(target, signal); // kill(0) would hit the box's own group
    } catch {
      // already gone
    }
  }
}

/** SIGKILL lands asynchronously: wait (bounded) until none of `pids` runs, so a stopped opencode has left nothing behind. */
async function whileRunning(pids: number[], ms: number) {
  const anyRunning = async () => (await Promise.all(pids.map(readProc))).some(isRunning);
  for (const end = Date.now() + ms; (await anyRunning()) && Date.now() < end; ) await sleep(20);
}

async function groupMembers(pgid: number): Promise<number[]> {
  return [...(await readAll()).values()].filter((p) => p.pgrp === pgid).map((p) => p.pid);
}

/** Descendants of `pid` from /proc (Linux); tool processes may run outside its process group. */
function descendants(pid: number): number[] {
  try {
    const tasks = readdirSync(`/proc/${pid}/task`);
    const kids = tasks.flatMap((t) => readFileSync(`/proc/${pid}/task/${t}/children`, "utf8").split(" "));
    return kids.filter(Boolean).map(Number).flatMap((kid) => [kid, ...descendants(kid)]);
  } catch {
    return []; // exited while we looked
  }
}
