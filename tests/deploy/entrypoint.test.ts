import { chmod, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { execa, type ResultPromise } from "execa";
import { afterEach, describe, expect, it } from "vitest";
import { waitFor } from "../helpers/wait-for.ts";

// docker/entrypoint.sh run by the system sh with stand-in `node` and `cloudflared` first on PATH: tiny scripts
// that log how they were started, log SIGTERM, and exit when the test writes their exit file.
const root = fileURLToPath(new URL("../..", import.meta.url));
const ENTRYPOINT = path.join(root, "docker/entrypoint.sh");
type Name = "node" | "cloudflared";
type Run = { dir: string; proc: ResultPromise<{ all: true; reject: false }> };
const runs: Run[] = [];

function standIn(dir: string, name: Name, onTerm: "exit" | "ignore") {
  const log = path.join(dir, `${name}.log`);
  const term = onTerm === "exit" ? `echo TERM >> ${log}; exit 0` : `echo TERM >> ${log}`;
  return [
    "#!/bin/sh",
    `echo "start pid=$$ uid=$(id -u) args=$*" >> ${log}`,
    `echo "env TUNNEL_TOKEN=\${TUNNEL_TOKEN-<unset>} BOX_TOKEN=\${BOX_TOKEN-<unset>}" >> ${log}`,
    `trap '${term}' TERM`,
    `while [ ! -f ${path.join(dir, `${name}.exit`)} ]; do sleep 0.1; done`,
    `exit "$(cat ${path.join(dir, `${name}.exit`)})"`,
    "",
  ].join("\n");
}

async function start(env: Record<string, string>, opts: { stubborn?: Name } = {}): Promise<Run> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "ocweb-entrypoint-"));
  await chmod(dir, 0o755); // the stand-ins may run as another user
  for (const name of ["node", "cloudflared"] as const) {
    await writeFile(path.join(dir, name), standIn(dir, name, opts.stubborn === name ? "ignore" : "exit"), { mode: 0o755 });
    await writeFile(path.join(dir, `${name}.log`), "", { mode: 0o666 });
    await chmod(path.join(dir, `${name}.log`), 0o666);
  }
  const base = { PATH: `${dir}:/usr/local/bin:/usr/bin:/bin`, OCWEB_USER: "root", BOX_TOKEN: "box-token-for-the-entrypoint-test-0123456789" };
  const proc = execa("sh", [ENTRYPOINT], { env: { ...base, ...env }, extendEnv: false, reject: false, all: true });
  const run = { dir, proc };
  runs.push(run);
  return run;
}

const log = (run: Run, name: Name) => readFile(path.join(run.dir, `${name}.log`), "utf8");
const started = (run: Run, name: Name) =>
  waitFor(`${name} to start`, async () => ((await log(run, name)).includes("start ") ? true : undefined), 20_000);
const exitWith = (run: Run, name: Name, code: number) => writeFile(path.join(run.dir, `${name}.exit`), String(code));
const pidOf = async (run: Run, name: Name) => Number(/start pid=(\d+)/.exec(await log(run, name))?.[1]);
/** Zombies count as gone: only the entrypoint could reap them. */
function running(pid: number) {
  try {
    const raw = readFileSync(`/proc/${pid}/stat`, "utf8");
    return raw.slice(raw.lastIndexOf(")") + 2, raw.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

afterEach(async () => {
  for (const run of runs.splice(0)) {
    await Promise.all([exitWith(run, "node", 0), exitWith(run, "cloudflared", 0)]);
    run.proc.kill("SIGTERM");
    await run.proc;
    await rm(run.dir, { recursive: true, force: true });
  }
});

const withTunnel = { TUNNEL_TOKEN: "tunnel-token-for-the-test" };

describe("docker/entrypoint.sh", () => {
  it("starts the box and cloudflared, each with only its own secret", async () => {
    const run = await start(withTunnel);
    await Promise.all([started(run, "node"), started(run, "cloudflared")]);
    const [box, tunnel] = [await log(run, "node"), await log(run, "cloudflared")];
    expect(box).toContain(`args=--max-semi-space-size=1 --liftoff-only --single-threaded ${path.join(root, "dist/box.mjs")}`);
    expect(box).toContain("TUNNEL_TOKEN=<unset> BOX_TOKEN=box-token-for-the-entrypoint-test-0123456789");
    expect(tunnel).toContain("args=tunnel --no-autoupdate run");
    expect(tunnel).toContain("TUNNEL_TOKEN=tunnel-token-for-the-test BOX_TOKEN=<unset>");
  });

  it("stops cloudflared and exits with the box's status when the box exits", async () => {
    const run = await start(withTunnel);
    await Promise.all([started(run, "node"), started(run, "cloudflared")]);
    await exitWith(run, "node", 3);
    const result = await run.proc;
    expect(result.exitCode).toBe(3);
    expect(await log(run, "cloudflared")).toContain("TERM");
    expect(result.all).toContain("the box exited (status 3)");
  });

  it("stops the box and exits non-zero when cloudflared exits, even with status 0", async () => {
    const run = await start(withTunnel);
    await Promise.all([started(run, "node"), started(run, "cloudflared")]);
    await exitWith(run, "cloudflared", 0);
    const result = await run.proc;
    expect(result.exitCode).toBe(1);
    expect(await log(run, "node")).toContain("TERM");
    expect(result.all).toContain("cloudflared exited (status 0)");
  });

  it("forwards SIGTERM to both and exits 0 once both have stopped", async () => {
    const run = await start(withTunnel);
    await Promise.all([started(run, "node"), started(run, "cloudflared")]);
    run.proc.kill("SIGTERM");
    const result = await run.proc;
    expect(result.exitCode).toBe(0);
    expect(await log(run, "node")).toContain("TERM");
    expect(await log(run, "cloudflared")).toContain("TERM");
  });

  it("SIGKILLs what ignores SIGTERM past OCWEB_STOP_TIMEOUT and exits non-zero", async () => {
    const run = await start({ ...withTunnel, OCWEB_STOP_TIMEOUT: "1" }, { stubborn: "cloudflared" });
    await Promise.all([started(run, "node"), started(run, "cloudflared")]);
    const pid = await pidOf(run, "cloudflared");
    run.proc.kill("SIGTERM");
    const result = await run.proc;
    expect(result.exitCode).toBe(1);
    expect(await log(run, "cloudflared")).toContain("TERM");
    expect(result.all).toContain(`pid ${pid} did not stop within 1s: SIGKILL`);
    expect(running(pid)).toBe(false);
  });

  it("refuses to start without TUNNEL_TOKEN and says what to do", async () => {
    const run = await start({});
    const result = await run.proc;
    expect(result.exitCode).toBe(78);
    expect(result.all).toMatch(/TUNNEL_TOKEN is not set/);
    expect(result.all).toMatch(/fly secrets set TUNNEL_TOKEN=/);
    expect(result.all).toMatch(/OCWEB_NO_TUNNEL=1/);
    expect(await log(run, "node")).toBe("");
    expect(await log(run, "cloudflared")).toBe("");
  });

  it("runs the box alone with OCWEB_NO_TUNNEL=1", async () => {
    const run = await start({ OCWEB_NO_TUNNEL: "1" });
    await started(run, "node");
    await exitWith(run, "node", 0);
    const result = await run.proc;
    expect(result.exitCode).toBe(1);
    expect(await log(run, "cloudflared")).toBe("");
  });

  it("refuses a stop timeout that is not a number", async () => {
    const result = await (await start({ ...withTunnel, OCWEB_STOP_TIMEOUT: "10s" })).proc;
    expect(result.exitCode).toBe(78);
    expect(result.all).toContain("OCWEB_STOP_TIMEOUT must be a whole number of seconds");
  });
});

describe.skipIf(process.getuid?.() !== 0)("docker/entrypoint.sh started as root", () => {
  it("hands OCWEB_DATA to OCWEB_USER and runs both as that user", async () => {
    const vol = path.join(os.tmpdir(), `ocweb-entrypoint-vol-${process.pid}`);
    try {
      const run = await start({ ...withTunnel, OCWEB_USER: "nobody", OCWEB_DATA: vol });
      await Promise.all([started(run, "node"), started(run, "cloudflared")]);
      const nobody = Number((await execa("id", ["-u", "nobody"])).stdout);
      expect(await log(run, "node")).toContain(`uid=${nobody} `);
      expect(await log(run, "cloudflared")).toContain(`uid=${nobody} `);
      expect((await stat(vol)).uid).toBe(nobody);
    } finally {
      await rm(vol, { recursive: true, force: true });
    }
  });

  it("names a missing OCWEB_USER", async () => {
    const result = await (await start({ ...withTunnel, OCWEB_USER: "ocweb-no-such-user" })).proc;
    expect(result.exitCode).toBe(78);
    expect(result.all).toContain("OCWEB_USER=ocweb-no-such-user: no such user");
  });
});
