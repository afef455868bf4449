import { readFile } from "node:fs/promises";
import { execa } from "execa";
import { isRunning, readAll, readProc, type ProcInfo } from "./proc.ts";

export type Orphan = { pid: number; ppid: number; command: string; rssBytes: number; startedAt: string };

const PF_KTHREAD = 0x00200000;
/** Infrastructure that legitimately runs parented to init; matched on comm (kernel truncates it to 15 chars). */
const knownServices = new Set([
  "init", "systemd", "systemd-journal", "systemd-logind", "systemd-udevd", "systemd-resolve", "systemd-network",
  "systemd-timesyn", "dbus-daemon", "tini", "dumb-init", "s6-svscan", "s6-supervise", "runsvdir", "runsv",
  "supervisord", "sshd", "cron", "crond", "rsyslogd", "cloudflared", "containerd", "containerd-shim",
  "dockerd", "docker-init", "tailscaled", "agetty", "process_api",
]);

export async function listOrphans(opts: { excludePids: number[] }): Promise<Orphan[]> {
  const reaper = await orphanReaper();
  const [clockTicks, bootTime, procs] = await Promise.all([clkTck(), bootSeconds(), readAll()]);
  const uid = process.getuid?.() ?? 0;
  const ancestors = ancestorsOf(process.pid, procs);
  const excluded = new Set([...opts.excludePids, process.pid, 1, ...ancestors]);
  const orphans: Orphan[] = [];
  for (const p of procs.values()) {
    if (excluded.has(p.pid)) continue;
    if (p.ppid !== 1 && p.ppid !== reaper) continue;
    if ((p.flags & PF_KTHREAD) !== 0 || p.state === "Z" || knownServices.has(p.comm)) continue;
    const status = await readFile(`/proc/${p.pid}/status`, "utf8").catch(() => undefined);
    if (!status || realUid(status) !== uid) continue;
    const cmdline = await readFile(`/proc/${p.pid}/cmdline`, "utf8").catch(() => "");
    orphans.push({
      pid: p.pid,
      ppid: p.ppid,
      command: cmdline.split("\0").filter(Boolean).join(" ") || `[${p.comm}]`,
      rssBytes: rssKb(status) * 1024,
      startedAt: new Date((bootTime + p.startTicks / clockTicks) * 1000).toISOString(),
    });
  }
  return orphans.sort((a, b) => a.pid - b.pid);
}

/** false unless pid is listed right now; else SIGTERM, up to 3 s grace, then SIGKILL. */
export async function killOrphan(pid: number, opts: { excludePids: number[] }): Promise<boolean> {
  const listed = (await listOrphans(opts)).find((o) => o.pid === pid);
  if (!listed) return false;
  const startTicks = (await readProc(pid))?.startTicks;
  if (!signal(pid, "SIGTERM")) return true;
  for (let waited = 0; waited < 3000; waited += 100) {
    await sleep(100);
    if (!(await alive(pid, startTicks))) return true;
  }
  if (await alive(pid, startTicks)) signal(pid, "SIGKILL");
  return true;
}

/** Same pid and start time (so not a recycled pid) and not yet a zombie. */
async function alive(pid: number, startTicks: number | undefined): Promise<boolean> {
  const now = await readProc(pid);
  return now?.startTicks === startTicks && isRunning(now);
}

function signal(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}

function ancestorsOf(pid: number, procs: Map<number, ProcInfo>): number[] {
  const out: number[] = [];
  for (let p = procs.get(pid)?.ppid; p && p > 1 && !out.includes(p); p = procs.get(p)?.ppid) out.push(p);
  return out;
}

function realUid(status: string): number {
  return Number(/^Uid:\s+(\d+)/m.exec(status)?.[1] ?? -1);
}

function rssKb(status: string): number {
  return Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1] ?? 0);
}

let ticks: Promise<number> | undefined;
function clkTck(): Promise<number> {
  ticks ??= execa("getconf", ["CLK_TCK"]).then(
    (r) => Number(r.stdout.trim()) || 100,
    () => 100,
  );
  return ticks;
}

async function bootSeconds(): Promise<number> {
  const stat = await readFile("/proc/stat", "utf8");
  return Number(/^btime\s+(\d+)/m.exec(stat)?.[1] ?? 0);
}

let reaperPid: Promise<number> | undefined;
/**
 * Where our orphans end up: PID 1, or the nearest ancestor that set PR_SET_CHILD_SUBREAPER (systemd --user,
 * containerd-shim, tini -s). No /proc field exposes that, so orphan a short sleep once and see who adopts it.
 */
function orphanReaper(): Promise<number> {
  reaperPid ??= probeReaper().catch(() => 1);
  return reaperPid;
}

async function probeReaper(): Promise<number> {
  const { stdout } = await execa("sh", ["-c", "sleep 30 </dev/null >/dev/null 2>&1 & echo $!"]);
  const pid = Number(stdout.trim());
  const probe = await readProc(pid);
  signal(pid, "SIGKILL");
  for (let waited = 0; waited < 2000 && (await alive(pid, probe?.startTicks)); waited += 20) await sleep(20);
  return probe?.ppid || 1;
}

function sleep(ms: number) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
