import { randomUUID } from "node:crypto";
import { copyFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { badRequest } from "../../lib/api-error.ts";
import { gitAt, isSha } from "./git.ts";

export type FileStatus = "added" | "modified" | "deleted" | "renamed";
export type DiffFile = { path: string; status: FileStatus; additions: number; deletions: number };
export type WorktreeDiff = { head: string; files: DiffFile[]; patch: string };

const statuses: Record<string, FileStatus> = { A: "added", C: "added", M: "modified", T: "modified", D: "deleted", R: "renamed" };

/**
 * Everything in the worktree (committed, staged, unstaged, untracked) against baseCommit.
 * Uses a throwaway copy of the index so the worktree's real index is never touched.
 */
export async function diffAgainstBase(opts: { worktree: string; baseCommit: string }): Promise<WorktreeDiff> {
  if (!isSha(opts.baseCommit)) throw badRequest("baseCommit must be a full sha");
  const plain = gitAt(opts.worktree);
  const realIndex = path.resolve(opts.worktree, (await plain.raw(["rev-parse", "--git-path", "index"])).trim());
  const tmpIndex = path.join(os.tmpdir(), `ocweb-index-${randomUUID()}`);
  try {
    // Copying keeps the stat cache, so `add --all` only rehashes files that changed.
    await copyFile(realIndex, tmpIndex).catch(() => undefined);
    const git = gitAt(opts.worktree, { env: { GIT_INDEX_FILE: tmpIndex } });
    await git.raw(["add", "--all"]);
    const diff = ["diff", "--cached", "-M", "--no-color", "--no-ext-diff", "--no-textconv"];
    const range = ["--end-of-options", opts.baseCommit, "--"];
    const numstat = await git.raw([...diff, "--numstat", "-z", ...range]);
    const nameStatus = await git.raw([...diff, "--name-status", "-z", ...range]);
    const patch = await git.raw([...diff, ...range]);
    const head = (await plain.raw(["rev-parse", "--verify", "HEAD"])).trim();
    return { head, files: mergeStats(parseNameStatus(nameStatus), parseNumstat(numstat)), patch };
  } finally {
    await rm(tmpIndex, { force: true });
    await rm(`${tmpIndex}.lock`, { force: true });
  }
}

function parseNameStatus(out: string): Array<{ path: string; status: FileStatus }> {
  const parts = out.split("\0");
  const files: Array<{ path: string; status: FileStatus }> = [];
  for (let i = 0; i < parts.length; ) {
    const code = parts[i] ?? "";
    if (!code) break;
    const letter = code.charAt(0);
    const twoPaths = letter === "R" || letter === "C";
    const file = twoPaths ? parts[i + 2] : parts[i + 1];
    files.push({ path: file ?? "", status: statuses[letter] ?? "modified" });
    i += twoPaths ? 3 : 2;
  }
  return files;
}

// With -z, a rename is "adds\tdels\t" followed by the old and new paths as separate fields.
function parseNumstat(out: string): Map<string, { additions: number; deletions: number }> {
  const parts = out.split("\0");
  const stats = new Map<string, { additions: number; deletions: number }>();
  for (let i = 0; i < parts.length; ) {
    const entry = parts[i] ?? "";
    if (!entry) break;
    const first = entry.indexOf("\t");
    const second = entry.indexOf("\t", first + 1);
    const [adds, dels, inlinePath] = [entry.slice(0, first), entry.slice(first + 1, second), entry.slice(second + 1)];
    const renamed = inlinePath === "";
    const file = renamed ? (parts[i + 2] ?? "") : inlinePath;
    // Binary files show "-" for both counts.
    stats.set(file, { additions: Number(adds) || 0, deletions: Number(dels) || 0 });
    i += renamed ? 3 : 1;
  }
  return stats;
}

function mergeStats(
  files: Array<{ path: string; status: FileStatus }>,
  stats: Map<string, { additions: number; deletions: number }>,
): DiffFile[] {
  return files.map((f) => ({ ...f, ...(stats.get(f.path) ?? { additions: 0, deletions: 0 }) }));
}
