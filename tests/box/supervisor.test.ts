import { once } from "node:events";
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { readdirSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { resolveOpencodeBinary } from "../../box/opencode/binary.ts";
import { OpencodeSupervisor, type SupervisorEvents } from "../../box/opencode/supervisor.ts";

const bin = resolveOpencodeBinary();
const cleanup: string[] = [];
const strays: { pid: number; start: string }[] = [];

async function tempDir(prefix: string) {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  cleanup.push(dir);
  return dir;
}

async function gitRepo() {
  const dir = await tempDir("ocweb-sup-repo-");
  await execa("git", ["init", "-q", dir]);
  await execa("git", ["-C", dir, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "init"]);
  return dir;
}

/** Parsed /proc/<pid>/stat, or undefined once the process is gone. Zombies count as gone: PID 1 here never reaps. */
function procStat(pid: number): { state: string; pgid: number; start: string } | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = raw.slice(raw.lastIndexOf(")") + 2).split(" ");
    const [state, , pgrp] = fields;
    return !state || state === "Z" ? undefined : { state, pgid: Number(pgrp), start: fields[19] ?? "" };
  } catch {
    return undefined;
  }
}

function liveGroupMembers(pgid: number): number[] {
  return readdirSync("/proc").filter((n) => /^\d+$/.test(n)).map(Number).filter((pid) => procStat(pid)?.pgid === pgid);
}

async function eventually(check: () => boolean | Promise<boolean>, what: string) {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting for: ${what}`);
}

function next<K extends keyof SupervisorEvents>(sup: OpencodeSupervisor, event: K) {
  return once(sup, event, { signal: AbortSignal.timeout(45_000) }) as Promise<SupervisorEvents[K]>;
}

function health(sup: OpencodeSupervisor, authorization?: string) {
  return fetch(`${sup.url}/global/health`, { headers: authorization ? { Authorization: authorization } : {} });
}

/** A process this test started; afterAll kills it if the code under test did not. */
function stray(pid: number) {
  const start = procStat(pid)?.start;
  if (start) strays.push({ pid, start });
}

afterAll(async () => {
  // Same pid and start time: never signal a recycled pid that now belongs to someone else.
  for (const { pid, start } of strays) {
    if (procStat(pid)?.start !== start) continue;
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // exited just now
    }
  }
  await Promise.all(cleanup.map((d) => rm(d, { recursive: true, force: true })));
});

describe("OpencodeSupervisor with the real binary", () => {
  let sup: OpencodeSupervisor;
  let home: string;
  let repo: string;
  const order: string[] = [];

  beforeAll(async () => {
    home = await tempDir("ocweb-sup-home-");
    repo = await gitRepo();
    process.env.OCWEB_TEST_NOT_PASSED = "box-only";
    sup = new OpencodeSupervisor({
      bin,
      homeDir: home,
      cwd: repo,
      env: {
        OPENCODE_CONFIG_CONTENT: JSON.stringify({ username: "ocweb-test" }),
        OPENCODE_SERVER_PASSWORD: "caller-cannot-override",
      },
      onReady: async (s) => {
        order.push(`ready:${s.pid}:${s.up}`);
        const res = await health(s, s.authHeader);
        expect(res.status).toBe(200);
      },
    });
    sup.on("up", ({ pid }) => order.push(`up:${pid}`));
    await sup.start();
  });

  afterAll(async () => {
    delete process.env.OCWEB_TEST_NOT_PASSED;
    await sup?.stop();
  });

  test("answers /global/health with its authHeader only", async () => {
    expect(sup.up).toBe(true);
    expect(sup.version).toBe("1.18.33");
    expect(sup.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const ok = await health(sup, sup.authHeader);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ healthy: true, version: "1.18.33" });
    expect((await health(sup)).status).toBe(401);
    const callerPassword = `Basic ${Buffer.from("opencode:caller-cannot-override").toString("base64")}`;
    expect((await health(sup, callerPassword)).status).toBe(401);
  });

  test("passes OPENCODE_* through, keeps state under homeDir and does not leak the box's env", async () => {
    const res = await fetch(`${sup.url}/config?directory=${encodeURIComponent(repo)}`, {
      headers: { Authorization: sup.authHeader },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ username: "ocweb-test", snapshot: false });

    const environ = new Map(
      (await readFile(`/proc/${sup.pid}/environ`, "utf8"))
        .split("\0")
        .filter(Boolean)
        .map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)] as const),
    );
    expect(environ.get("HOME")).toBe(home);
    expect(environ.get("XDG_DATA_HOME")).toBe(path.join(home, "data"));
    expect(environ.get("OPENCODE_DISABLE_MODELS_FETCH")).toBe("1");
    expect(environ.get("OPENCODE_SERVER_PASSWORD")).toBe(sup.password);
    expect(environ.has("OCWEB_TEST_NOT_PASSED")).toBe(false);
    expect((await stat(path.join(home, "data", "opencode", "opencode.db"))).isFile()).toBe(true);
  });

  test("a repo's own opencode.json overrides the box's defaults (snapshots back on)", async () => {
    const own = await gitRepo();
    await writeFile(path.join(own, "opencode.json"), JSON.stringify({ snapshot: true }));
    const res = await fetch(`${sup.url}/config?directory=${encodeURIComponent(own)}`, { headers: { Authorization: sup.authHeader } });
    expect(await res.json()).toMatchObject({ username: "ocweb-test", snapshot: true });
  });

  test("a killed opencode goes down, comes back on the same url and password, onReady first", async () => {
    const url = sup.url;
    const oldPid = sup.pid as number;
    const down = next(sup, "down");
    const up = next(sup, "up");
    process.kill(oldPid, "SIGKILL");
    const [gone] = await down;
    expect(gone).toEqual({ code: null, signal: "SIGKILL", expected: false });
    const [back] = await up;
    expect(back.pid).not.toBe(oldPid);
    expect(back.version).toBe("1.18.33");
    expect(sup.pid).toBe(back.pid);
    expect(sup.url).toBe(url);
    expect((await health(sup, sup.authHeader)).status).toBe(200);
    expect(order).toEqual([`ready:${oldPid}:false`, `up:${oldPid}`, `ready:${back.pid}:false`, `up:${back.pid}`]);
    expect(liveGroupMembers(oldPid)).toEqual([]);
  });

  test("restart() replaces the process and runs onReady again", async () => {
    const oldPid = sup.pid as number;
    await sup.restart();
    expect(sup.up).toBe(true);
    expect(sup.pid).not.toBe(oldPid);
    expect(order.slice(-2)).toEqual([`ready:${sup.pid}:false`, `up:${sup.pid}`]);
    expect((await health(sup, sup.authHeader)).status).toBe(200);
    await eventually(() => liveGroupMembers(oldPid).length === 0, "old process group gone");
  });
});

describe("OpencodeSupervisor process cleanup", () => {
  test("kills the group on a crash and the whole tree on stop(), even children that left the group", async () => {
    const dir = await tempDir("ocweb-sup-wrap-");
    const wrapper = path.join(dir, "opencode-wrapper");
    // The wrapper's children stand in for opencode's tool processes: one in its group, one in its own session.
    await writeFile(
      wrapper,
      `#!/bin/sh\nsleep 300 &\necho $! > "${dir}/in-group"\nsetsid sleep 301 &\necho $! > "${dir}/own-session"\nexec "${bin}" "$@"\n`,
    );
    await chmod(wrapper, 0o755);
    const sup = new OpencodeSupervisor({ bin: wrapper, homeDir: path.join(dir, "home"), cwd: await gitRepo(), env: {} });
    const children = async () => {
      const inGroup = Number(await readFile(path.join(dir, "in-group"), "utf8"));
      const ownSession = Number(await readFile(path.join(dir, "own-session"), "utf8"));
      stray(inGroup);
      stray(ownSession);
      return { inGroup, ownSession };
    };
    try {
      await sup.start();
      const first = await children();
      const firstPid = sup.pid as number;
      expect(procStat(first.inGroup)?.pgid).toBe(firstPid);
      await eventually(() => (procStat(first.ownSession)?.pgid ?? firstPid) !== firstPid, "setsid child in its own group");
      const up = next(sup, "up");
      process.kill(firstPid, "SIGKILL");
      await up;
      await eventually(() => procStat(first.inGroup) === undefined, "crashed server's group member killed");
      const second = await children();
      const secondPid = sup.pid as number;
      expect(procStat(second.inGroup)).toBeDefined();
      expect(procStat(second.ownSession)).toBeDefined();
      await sup.stop();
      expect(sup.up).toBe(false);
      expect(procStat(secondPid)).toBeUndefined();
      await eventually(() => liveGroupMembers(secondPid).length === 0, "no live process in the stopped group");
      await eventually(() => procStat(second.ownSession) === undefined, "detached descendant killed by stop()");
    } finally {
      await sup.stop();
    }
  });

  test("a box that exits takes its opencode along (process 'exit' hook)", async () => {
    const dir = await tempDir("ocweb-sup-exit-");
    const script = path.join(dir, "box.mts");
    const modules = fileURLToPath(new URL("../../box/opencode/", import.meta.url));
    await writeFile(
      script,
      `import { OpencodeSupervisor } from ${JSON.stringify(path.join(modules, "supervisor.ts"))};\n` +
        `const sup = new OpencodeSupervisor({ bin: ${JSON.stringify(bin)}, homeDir: ${JSON.stringify(path.join(dir, "home"))}, cwd: ${JSON.stringify(dir)}, env: {} });\n` +
        `await sup.start();\nconsole.log(JSON.stringify({ pid: sup.pid }));\nprocess.exit(0);\n`,
    );
    const tsx = fileURLToPath(new URL("../../node_modules/.bin/tsx", import.meta.url));
    const { stdout } = await execa(tsx, [script], { cwd: dir });
    const { pid } = JSON.parse(stdout.trim().split("\n").pop() ?? "{}") as { pid: number };
    expect(pid).toBeGreaterThan(0);
    stray(pid);
    await eventually(() => procStat(pid) === undefined, "opencode gone with its box");
    expect(liveGroupMembers(pid)).toEqual([]);
  });

  test("start() rejects with the child's last output when opencode cannot start", async () => {
    const dir = await tempDir("ocweb-sup-bad-");
    const broken = path.join(dir, "broken-opencode");
    await writeFile(broken, `#!/bin/sh\necho "config is broken: nope" >&2\nexit 3\n`);
    await chmod(broken, 0o755);
    const sup = new OpencodeSupervisor({ bin: broken, homeDir: path.join(dir, "home"), cwd: dir, env: {} });
    await expect(sup.start()).rejects.toThrow(/exited before it was ready[\s\S]*config is broken: nope/);
    expect(sup.up).toBe(false);
    await sup.stop();
  });
});
