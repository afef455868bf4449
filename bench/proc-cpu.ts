import { readdirSync, readFileSync } from "node:fs";
import { execFileSync } from "node:child_process";

const read = (file: string) => {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
};

/** Fields of /proc/<pid>/stat after the `(comm)` field, which may itself hold spaces and parentheses. */
function statFields(pid: number): string[] | undefined {
  const stat = read(`/proc/${pid}/stat`);
  if (!stat) return undefined;
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

/** Every live descendant of `root` whose command line matches. */
export function findDescendants(root: number, match: RegExp): number[] {
  const parent = new Map<number, number>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const ppid = Number(statFields(Number(name))?.[1]);
    if (Number.isFinite(ppid)) parent.set(Number(name), ppid);
  }
  const descends = (pid: number): boolean => {
    for (let p = parent.get(pid); p !== undefined && p > 1; p = parent.get(p)) if (p === root) return true;
    return false;
  };
  return [...parent.keys()].filter((pid) => descends(pid) && match.test((read(`/proc/${pid}/cmdline`) ?? "").replace(/\0/g, " ")));
}

const clockTicks = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** utime + stime of the whole process (all threads), in ms; resolution is one clock tick (usually 10 ms). */
export function cpuTimeMs(pid: number): number {
  const f = statFields(pid);
  if (!f) throw new Error(`process ${pid} is gone`);
  // After `(comm)`: state is field 3, so utime (14) and stime (15) are at indexes 11 and 12.
  return ((Number(f[11]) + Number(f[12])) * 1000) / clockTicks;
}

/** Run time of every thread of the process from the scheduler, in ms with ns resolution. */
export function schedTimeMs(pid: number): number {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) ns += Number((read(`/proc/${pid}/task/${tid}/schedstat`) ?? "0").split(" ")[0]);
  return ns / 1e6;
}
