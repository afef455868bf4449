import { readFile, readdir } from "node:fs/promises";

/** The fields of /proc/<pid>/stat the box uses (Linux). */
export type ProcInfo = { pid: number; ppid: number; pgrp: number; comm: string; state: string; flags: number; startTicks: number };

export async function readProc(pid: number): Promise<ProcInfo | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => undefined);
  if (!stat) return undefined;
  // comm may contain spaces and parentheses; the fields after the last ")" are fixed.
  const open = stat.indexOf("(");
  const close = stat.lastIndexOf(")");
  const rest = stat.slice(close + 2).split(" ");
  return {
    pid,
    comm: stat.slice(open + 1, close),
    state: rest[0] ?? "",
    ppid: Number(rest[1]),
    pgrp: Number(rest[2]),
    flags: Number(rest[6]),
    startTicks: Number(rest[19]),
  };
}

export async function readAll(): Promise<Map<number, ProcInfo>> {
  const names = await readdir("/proc");
  const pids = names.filter((n) => /^\d+$/.test(n)).map(Number);
  const infos = await Promise.all(pids.map(readProc));
  return new Map(infos.filter((p) => p !== undefined).map((p) => [p.pid, p]));
}

/** Still running: neither gone nor a zombie waiting to be reaped. */
export const isRunning = (p: ProcInfo | undefined) => p !== undefined && p.state !== "Z" && p.state !== "X";
