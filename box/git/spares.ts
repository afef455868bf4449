import { rm } from "node:fs/promises";
import path from "node:path";
import { exists } from "../lib/exists.ts";
import type { DataLayout } from "../names.ts";
import { ORIGIN_HEAD, type CloneCache } from "./clone-cache.ts";
import { gitAt, tryRaw } from "./git.ts";

/**
 * One checked-out worktree kept ready inside each clone, so a new chat's worktree is a rename
 * instead of a checkout (a 5,000-file checkout is ~90 ms on tmpfs, 0.4–1.8 s on this VM's disk).
 * It lives in the clone's own directory: evicting or deleting the clone takes it along.
 */
const SPARE_BRANCH = "ocweb-spare";
export const SPARE_REF = `refs/heads/${SPARE_BRANCH}`;
export const SPARE_DIR = "ocweb-spare";
const spareDir = (layout: DataLayout, repo: string) => path.join(layout.repoCache(repo), SPARE_DIR);

/** Checks out a spare at the cached upstream default branch unless the clone has one. */
export function makeSpare(cache: CloneCache, repo: string): Promise<void> {
  const { layout } = cache;
  const bare = gitAt(layout.repoCache(repo));
  const spare = spareDir(layout, repo);
  const making = `${spare}.making`;
  return cache.worktreeChange(repo, async () => {
    if (!(await cache.has(repo)) || (await exists(spare))) return;
    // A box that died mid-checkout left a half-made spare behind.
    await tryRaw(bare, ["worktree", "remove", "--force", "--", making]);
    await rm(making, { recursive: true, force: true });
    await bare.raw(["worktree", "prune"]);
    await bare.raw(["worktree", "add", "--quiet", "--no-track", "-B", SPARE_BRANCH, "--", making, ORIGIN_HEAD]);
    await bare.raw(["worktree", "move", "--", making, spare]);
  });
}

/**
 * Turns the spare into the chat's worktree on the chat's branch; false when there is no spare or it
 * went to another chat first. The caller moves it to the current base (freshenNewWorktree).
 */
export function claimSpare(cache: CloneCache, repo: string, branch: string, worktree: string, log: (line: string) => void): Promise<boolean> {
  const bare = gitAt(cache.layout.repoCache(repo));
  const spare = spareDir(cache.layout, repo);
  return cache.worktreeChange(repo, async () => {
    if (!(await exists(spare))) return false;
    if ((await tryRaw(bare, ["branch", "--no-color", "-m", "--", SPARE_BRANCH, branch])) === null) return false;
    try {
      await bare.raw(["worktree", "move", "--", spare, worktree]);
      return true;
    } catch (err) {
      log(`${repo}: could not use the spare worktree (${err instanceof Error ? err.message : String(err)}); checking out afresh`);
      await tryRaw(bare, ["worktree", "remove", "--force", "--", spare]);
      await tryRaw(bare, ["branch", "-D", "--", branch]);
      return false;
    }
  });
}

/** Disk GC's: the spare is the cheapest thing to give back (a checkout, made again after the next chat). */
export function removeSpare(cache: CloneCache, repo: string): Promise<void> {
  const spare = spareDir(cache.layout, repo);
  return cache.worktreeChange(repo, async () => {
    if (!(await exists(spare))) return;
    await gitAt(cache.layout.repoCache(repo)).raw(["worktree", "remove", "--force", "--", spare]);
  });
}
