import { lstat } from "node:fs/promises";
import { execa } from "execa";
import { statfsNearest } from "./statfs.ts";
import type { DataLayout } from "../names.ts";

export type DiskUsage = {
  totalBytes: number;
  freeBytes: number;
  budgetBytes: number;
  reposBytes: number;
  worktreesBytes: number;
  opencodeBytes: number;
};

/** Apparent bytes under dir (symlinks not followed, hard links counted once); 0 if it does not exist. */
export async function dirBytes(dir: string): Promise<number> {
  const exists = await lstat(dir).then(
    () => true,
    () => false,
  );
  if (!exists) return 0;
  // du exits 1 when a file vanishes mid-walk (opencode writes concurrently) but still prints the total.
  const result = await execa("du", ["-s", "-b", "-P", "--", dir], { reject: false, env: { LC_ALL: "C" } });
  const total = Number.parseInt(result.stdout.split("\t")[0] ?? "", 10);
  if (Number.isFinite(total)) return total;
  throw new Error(`du failed for ${dir}: ${result.stderr || result.shortMessage}`);
}

export async function diskUsage(opts: { layout: DataLayout; budgetBytes: number }): Promise<DiskUsage> {
  const { layout } = opts;
  const [fs, reposBytes, worktreesBytes, opencodeBytes] = await Promise.all([
    statfsNearest(layout.dataDir),
    dirBytes(layout.reposDir),
    dirBytes(layout.worktreesDir),
    dirBytes(layout.opencodeDir),
  ]);
  return {
    totalBytes: fs.blocks * fs.bsize,
    freeBytes: fs.bavail * fs.bsize,
    budgetBytes: opts.budgetBytes,
    reposBytes,
    worktreesBytes,
    opencodeBytes,
  };
}

/** The data dir may not exist before the first clone; measure the filesystem it will live on. */
