import { type ChildProcess, spawn } from "node:child_process";
import { copyFile, mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { killOrphan, listOrphans } from "../../box/processes/orphans.ts";

const spawned: number[] = [];
const children: ChildProcess[] = [];
let tmp = "";

/** Starts `script` in the background of a shell that exits at once, so the kernel reparents it. */
async function orphan(script: string): Promise<number> {
  const { stdout } = await execa("sh", ["-c", `(${script}) </dev/null >/dev/null 2>&1 & echo $!`]);
  const pid = Number(stdout.trim());
  spawned.push(pid);
  return pid;
}

async function procStat(pid: number) {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => undefined);
  if (!stat) return undefined;
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { comm: stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")), state: fields[0], ppid: Number(fields[1]) };
}

/** Waits for a condition the kernel reaches asynchronously (exec, reaping); fails after 20 s. */
async function eventually(check: () => Promise<boolean>) {
  for (let i = 0; i < 400; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("condition not reached");
}

const gone = async (pid: number) => {
  const s = await procStat(pid);
  return s === undefined || s.state === "Z";
};

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), "ocweb-orphans-"));
});

afterAll(async () => {
  for (const pid of spawned) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  for (const child of children) child.kill("SIGKILL");
  await rm(tmp, { recursive: true, force: true });
});

describe("listOrphans", () => {
  it("lists a detached process of our uid with its command, rss and start time", async () => {
    const spawnedAt = Date.now();
    const pid = await orphan("exec sleep 301");
    await eventually(async () => (await procStat(pid))?.comm === "sleep");
    const stat = await procStat(pid);
    expect(stat?.ppid).not.toBe(process.pid);

    const found = (await listOrphans({ excludePids: [] })).find((o) => o.pid === pid);
    expect(found).toBeDefined();
    expect(found?.ppid).toBe(stat?.ppid);
    expect(found?.command).toBe("sleep 301");
    expect(found?.rssBytes).toBeGreaterThan(0);
    const startedAt = Date.parse(found?.startedAt ?? "");
    expect(Math.abs(startedAt - spawnedAt)).toBeLessThan(60_000);
    expect(found?.startedAt).toBe(new Date(startedAt).toISOString());

    const withExclude = await listOrphans({ excludePids: [pid] });
    expect(withExclude.some((o) => o.pid === pid)).toBe(false);
  });

  it("does not list our own children, ourselves, PID 1 or known services", async () => {
    const child = spawn("sleep", ["302"], { stdio: "ignore" });
    children.push(child);
    const servicePath = path.join(tmp, "cloudflared");
    await copyFile("/bin/sleep", servicePath);
    await execa("chmod", ["+x", "--", servicePath]);
    const service = await orphan(`exec ${servicePath} 303`);
    await eventually(async () => (await procStat(service))?.comm === "cloudflared");

    const pids = (await listOrphans({ excludePids: [] })).map((o) => o.pid);
    expect(child.pid).toBeDefined();
    expect(pids).not.toContain(child.pid);
    expect(pids).not.toContain(process.pid);
    expect(pids).not.toContain(process.ppid);
    expect(pids).not.toContain(1);
    expect(pids).not.toContain(service);
  });

  it.skipIf(process.getuid?.() !== 0)("does not list another user's orphan", async () => {
    const pid = await orphan("exec setpriv --reuid=65534 --regid=65534 --clear-groups sleep 304");
    await eventually(async () => (await procStat(pid))?.comm === "sleep");
    const pids = (await listOrphans({ excludePids: [] })).map((o) => o.pid);
    expect(pids).not.toContain(pid);
  });
});

describe("killOrphan", () => {
  it("kills a listed orphan, escalating to SIGKILL when SIGTERM is ignored", async () => {
    // SIG_IGN survives exec, so this sleep ignores SIGTERM once its comm reads "sleep".
    const pid = await orphan("trap '' TERM; exec sleep 305");
    await eventually(async () => (await procStat(pid))?.comm === "sleep");

    expect(await killOrphan(pid, { excludePids: [] })).toBe(true);
    await eventually(async () => (await procStat(pid)) === undefined);
    expect((await listOrphans({ excludePids: [] })).some((o) => o.pid === pid)).toBe(false);
  });

  it("kills a plain orphan with SIGTERM", async () => {
    const pid = await orphan("exec sleep 306");
    await eventually(async () => (await procStat(pid))?.comm === "sleep");
    expect(await killOrphan(pid, { excludePids: [] })).toBe(true);
    await eventually(() => gone(pid));
  });

  it("refuses pids that are not listed", async () => {
    const child = spawn("sleep", ["307"], { stdio: "ignore" });
    children.push(child);
    const excluded = await orphan("exec sleep 308");
    await eventually(async () => (await procStat(excluded))?.comm === "sleep");

    expect(await killOrphan(process.pid, { excludePids: [] })).toBe(false);
    expect(await killOrphan(child.pid ?? -1, { excludePids: [] })).toBe(false);
    expect(await killOrphan(excluded, { excludePids: [excluded] })).toBe(false);
    expect(await killOrphan(1, { excludePids: [] })).toBe(false);
    expect(await gone(excluded)).toBe(false);
    expect(child.exitCode).toBeNull();
  });
});
