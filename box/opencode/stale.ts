import { readdir, readFile, readlink } from "node:fs/promises";

/**
 * Kills `opencode serve` processes left by an earlier run of this box (it was SIGKILLed, so its
 * exit hook never ran): two servers on one data dir share opencode.db but not their runners.
 * They are recognised by their working directory, which only this box's opencode uses.
 */
export async function killStaleOpencode(cwd: string): Promise<number[]> {
  const killed: number[] = [];
  for (const entry of await readdir("/proc").catch(() => [])) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    const [dir, cmdline] = await Promise.all([
      readlink(`/proc/${pid}/cwd`).catch(() => ""),
      readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => ""),
    ]);
    if (dir !== cwd || !cmdline.split("\0").includes("serve")) continue;
    try {
      process.kill(pid, "SIGKILL");
      killed.push(pid);
    } catch {
      // already gone
    }
  }
  return killed;
}
