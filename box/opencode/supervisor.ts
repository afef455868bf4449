import { randomBytes } from "node:crypto";
import { EventEmitter } from "node:events";
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { execa, type ResultPromise } from "execa";

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

const headlessDefaults = {
  OPENCODE_DISABLE_MODELS_FETCH: "1",
  OPENCODE_DISABLE_AUTOUPDATE: "1",
  OPENCODE_DISABLE_LSP_DOWNLOAD: "1",
  OPENCODE_DISABLE_SHARE: "1",
};
const readyTimeoutMs = 30_000;
const stopGraceMs = 3_000;
const backoffCapMs = 15_000;
const stableUpMs = 60_000;
const tailLines = 40;

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
  readonly #exitHook = () => this.#run && signalTree(this.#run.pid, descendants(this.#run.pid), "SIGKILL");

  constructor(opts: SupervisorOptions) {
    super();
    this.#opts = opts;
    this.#port = opts.port;
  }

  get url(): string {
    if (this.#port === undefined) throw new Error("opencode supervisor: url is unknown before start()");
    return `http://127.0.0.1:${this.#port}`;
  }
  get up(): boolean {
    return this.#up;
  }
  get pid(): number | undefined {
    return this.#run?.pid;
  }
  get version(): string | undefined {
    return this.#version;
  }

  start(): Promise<void> {
    if (this.#stopped) return Promise.reject(new Error("opencode supervisor was stopped"));
    this.#starting ??= this.#firstStart().catch((err: unknown) => {
      this.#starting = undefined;
      process.off("exit", this.#exitHook);
      throw err;
    });
    return this.#starting;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#generation += 1;
    clearTimeout(this.#timer);
    this.#up = false;
    const run = this.#run;
    if (run) await this.#terminate(run);
    process.off("exit", this.#exitHook);
  }

  async restart(): Promise<void> {
    if (this.#stopped) throw new Error("opencode supervisor was stopped");
    if (!this.#starting) return this.start();
    await this.#starting;
    this.#generation += 1;
    clearTimeout(this.#timer);
    this.#up = false;
    const run = this.#run;
    if (run) await this.#terminate(run);
    try {
      await this.#launch();
    } catch (err) {
      this.#scheduleRestart();
      throw err;
    }
  }

  async #firstStart() {
    this.#port ??= await freePort();
    process.on("exit", this.#exitHook);
    await this.#launch();
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
      if (!run.done) await this.#terminate(run);
      throw err;
    }
    this.#up = true;
    this.#upSince = Date.now();
    this.emit("up", { version: this.#version, pid: run.pid });
  }

  #spawn(): Run {
    const home = this.#opts.homeDir;
    for (const dir of ["data", "config", "state", "cache"]) mkdirSync(path.join(home, dir), { recursive: true });
    // Only what opencode needs from the box; env.ts holds the box's config, these are plain OS settings.
    const os = Object.fromEntries(
      ["PATH", "LANG", "TZ", "TMPDIR"].flatMap((k) => (process.env[k] ? [[k, process.env[k]]] : [])),
    ) as Record<string, string>;
    const env = {
      ...os,
      HOME: home,
      XDG_DATA_HOME: path.join(home, "data"),
      XDG_CONFIG_HOME: path.join(home, "config"),
      XDG_STATE_HOME: path.join(home, "state"),
      XDG_CACHE_HOME: path.join(home, "cache"),
      ...headlessDefaults,
      ...this.#opts.env,
      OPENCODE_SERVER_USERNAME: "opencode",
      OPENCODE_SERVER_PASSWORD: this.password,
    };
    const args = ["serve", "--hostname", "127.0.0.1", "--port", String(this.#port), "--print-logs", "--log-level", "WARN"];
    const sub = execa(this.#opts.bin, args, {
      cwd: this.#opts.cwd,
      env,
      extendEnv: false,
      detached: true,
      stdin: "ignore",
      buffer: false,
      reject: false,
      cleanup: false,
    });
    for (const stream of [sub.stdout, sub.stderr]) {
      if (stream) createInterface({ input: stream, crlfDelay: Infinity }).on("line", (l) => this.#log(l, true));
    }
    const exited = new Promise<Exit>((resolve) => {
      sub.once("exit", (code, signal) => resolve({ code, signal }));
      sub.once("error", (err) => {
        this.#log(`supervisor: spawn failed: ${err.message}`, true);
        resolve({ code: null, signal: null });
      });
    });
    const run: Run = { pid: sub.pid ?? 0, sub, exited, done: false, expected: false };
    void exited.then((exit) => this.#onExit(run, exit));
    this.#log(`supervisor: started opencode pid ${run.pid} on port ${this.#port}`, false);
    return run;
  }

  #onExit(run: Run, exit: Exit) {
    run.done = true;
    // Stragglers in the group (tool processes, LSPs) must not survive their server.
    signalTree(run.pid, [], "SIGKILL");
    this.#log(`supervisor: opencode pid ${run.pid} exited (code ${exit.code}, signal ${exit.signal})`, false);
    if (run !== this.#run) return;
    const wasUp = this.#up;
    this.#up = false;
    if (run.expected || this.#stopped || !wasUp) return;
    if (Date.now() - this.#upSince >= stableUpMs) this.#failures = 0;
    this.emit("down", { code: exit.code, signal: exit.signal, expected: false });
    this.#scheduleRestart();
  }

  #scheduleRestart() {
    if (this.#stopped) return;
    const delay = Math.min(500 * 2 ** this.#failures, backoffCapMs);
    this.#failures += 1;
    this.#log(`supervisor: restarting opencode in ${delay} ms`, false);
    const generation = this.#generation;
    this.#timer = setTimeout(() => {
      this.#launch().catch((err: unknown) => {
        this.#log(`supervisor: restart failed: ${err instanceof Error ? err.message : String(err)}`, false);
        // A stop() or restart() that killed this attempt owns what happens next.
        if (generation === this.#generation) this.#scheduleRestart();
      });
    }, delay);
  }

  async #waitHealthy(run: Run): Promise<string> {
    const deadline = Date.now() + readyTimeoutMs;
    while (Date.now() < deadline && !run.done && !this.#stopped) {
      const version = await this.#probe();
      if (version) return version;
      await sleep(150);
    }
    // Let the last stderr lines of a crashed child arrive; a grandchild may hold the pipes open, hence the bound.
    if (run.done) await Promise.race([run.sub, sleep(1000)]);
    const why = run.done ? "exited before it was ready" : this.#stopped ? "was stopped" : "did not get ready in 30 s";
    throw new Error(`opencode ${why}; last output:\n${this.#tail.slice(-20).join("\n")}`);
  }

  // A request sent while the port is still opening has been seen to hang, hence the short per-attempt timeout.
  async #probe(): Promise<string | undefined> {
    try {
      const res = await fetch(`${this.url}/global/health`, {
        headers: { Authorization: this.authHeader },
        signal: AbortSignal.timeout(1000),
      });
      if (!res.ok) return undefined;
      const body = (await res.json()) as { version?: unknown };
      return typeof body.version === "string" ? body.version : "unknown";
    } catch {
      return undefined;
    }
  }

  async #terminate(run: Run) {
    run.expected = true;
    if (run.done) return;
    const tree = descendants(run.pid);
    signalTree(run.pid, tree, "SIGTERM");
    await Promise.race([run.exited, sleep(stopGraceMs)]);
    signalTree(run.pid, descendants(run.pid).concat(tree), "SIGKILL");
    await run.exited;
  }

  #log(line: string, fromChild: boolean) {
    if (fromChild) {
      this.#tail.push(line);
      if (this.#tail.length > tailLines) this.#tail.shift();
    }
    this.#opts.log?.(line);
    this.emit("log", line);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const addr = server.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Signals the process group led by `pgid` and the listed pids (descendants that left the group). */
function signalTree(pgid: number, pids: number[], signal: NodeJS.Signals) {
  for (const target of [-pgid, ...pids]) {
    try {
      process.kill(target, signal);
    } catch {
      // already gone
    }
  }
}

/** Descendants of `pid` from /proc (Linux); tool processes may sit in their own process group. */
function descendants(pid: number): number[] {
  const read = (file: string) => {
    try {
      return readFileSync(file, "utf8");
    } catch {
      return "";
    }
  };
  let tasks: string[] = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  const kids = tasks.flatMap((t) => read(`/proc/${pid}/task/${t}/children`).split(" ").filter(Boolean).map(Number));
  return kids.flatMap((k) => [k, ...descendants(k)]);
}
