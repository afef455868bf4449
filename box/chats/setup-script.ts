import { access } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";

const MAX_OUTPUT = 64 * 1024;

export async function hasSetupScript(worktree: string): Promise<boolean> {
  return access(path.join(worktree, ".ocweb", "setup.sh")).then(
    () => true,
    () => false,
  );
}

/** Runs the repo's `.ocweb/setup.sh` in a new worktree; never throws: the outcome is the result. */
export async function runSetupScript(worktree: string, timeoutMs: number): Promise<{ ok: boolean; output: string }> {
  const result = await execa("bash", [".ocweb/setup.sh"], {
    cwd: worktree,
    all: true,
    reject: false,
    timeout: timeoutMs,
    killSignal: "SIGKILL",
    stdin: "ignore",
    env: { OCWEB: "1", CI: "1" },
    maxBuffer: 16 * MAX_OUTPUT,
  });
  const all = String(result.all ?? "");
  const output = all.length > MAX_OUTPUT ? `…${all.slice(-MAX_OUTPUT)}` : all;
  if (result.timedOut) return { ok: false, output: `${output}\n[ocweb] setup.sh timed out after ${timeoutMs} ms` };
  if (result.exitCode !== 0) return { ok: false, output: `${output}\n[ocweb] setup.sh exited with ${result.exitCode ?? result.signal}` };
  return { ok: true, output };
}
