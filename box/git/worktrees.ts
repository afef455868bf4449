import { mkdir, readFile, rm } from "node:fs/promises";
import path from "node:path";
import { badRequest, conflict } from "../../lib/api-error.ts";
import { chatBranch, chatIdSchema, refSchema, type DataLayout } from "../names.ts";
import { ORIGIN_HEAD, originBranch, type CloneCache } from "./clone-cache.ts";
import { gitAt, isSha, tryRaw, type Git } from "./git.ts";
import { exists } from "../lib/exists.ts";
import { claimSpare, SPARE_REF } from "./spares.ts";

export type WorktreeInfo = { branch: string; base: string; baseCommit: string; worktree: string };

const adding = new Map<string, Promise<WorktreeInfo>>();

type AddOptions = {
  cache: CloneCache;
  layout: DataLayout;
  repo: string;
  chatId: string;
  base?: string;
  /** false: fork from the cached origin/<base> when the repo is cached; the caller refreshes with freshenNewWorktree. */
  fetch?: boolean;
  /** Start the new branch at this commit (a checkpoint of another chat) instead of the base's tip. */
  fromCommit?: string;
  /** false: register the worktree and its branch but write no files; checkOutIfEmpty fills it. */
  checkout?: boolean;
  /**
   * A new chat takes the clone's spare worktree (spares.ts) when it has one; its baseCommit is then
   * the spare's commit, which the caller moves to the base's tip with freshenNewWorktree.
   */
  useSpare?: { log: (line: string) => void };
};

/** Creates (or returns) the chat's worktree on branch ocweb/<chatId>, forked from origin/<base>. */
export function addWorktree(opts: AddOptions): Promise<WorktreeInfo> {
  if (!chatIdSchema.safeParse(opts.chatId).success) return Promise.reject(badRequest(`invalid chatId "${opts.chatId}"`));
  if (opts.base !== undefined && !refSchema.safeParse(opts.base).success) {
    return Promise.reject(badRequest(`invalid base "${opts.base}"`));
  }
  if (opts.fromCommit !== undefined && !isSha(opts.fromCommit)) return Promise.reject(badRequest(`fromCommit must be a full sha`));
  const worktree = opts.layout.worktree(opts.repo, opts.chatId);
  const running = adding.get(worktree);
  if (running) return running;
  const promise = add({ ...opts, worktree }).finally(() => adding.delete(worktree));
  adding.set(worktree, promise);
  return promise;
}

async function add(opts: AddOptions & { worktree: string }) {
  const { cache, layout, repo, chatId, worktree } = opts;
  const branch = chatBranch(chatId);
  const existing = await exists(worktree);
  // An existing chat needs no fetch; a new one forks from the freshest upstream.
  const cached = await cache.has(repo);
  if (!cached || (!existing && opts.fetch !== false)) await cache.refresh(repo);
  const bare = gitAt(layout.repoCache(repo));
  let refs = await chatRefs(bare, branch, opts.base);
  if (!refs.baseSha && opts.fetch === false) {
    await cache.refresh(repo); // a branch pushed since the last fetch
    refs = await chatRefs(bare, branch, opts.base);
  }
  const { base, baseRef, baseSha } = refs;
  if (!base) throw new Error(`${repo}: the cache has no origin/HEAD`);
  if (!baseSha) throw badRequest(`base branch "${base}" does not exist in ${repo}`);

  if (existing) {
    const head = await tryRaw(gitAt(worktree), ["symbolic-ref", "--quiet", "HEAD"]);
    if (head?.trim() !== `refs/heads/${branch}`) throw conflict(`${worktree} exists but is not on ${branch}`);
    return { branch, base, baseCommit: await mergeBase(bare, branch, baseRef), worktree };
  }

  await mkdir(layout.worktreesDir, { recursive: true });
  const noCheckout = opts.checkout === false ? ["--no-checkout"] : [];
  if (refs.branchSha) {
    // The chat's worktree was removed earlier but its branch was kept: reattach it.
    await cache.worktreeChange(repo, () => addPruningOnce(bare, ["worktree", "add", "--quiet", ...noCheckout, "--", worktree, branch]));
    return { branch, base, baseCommit: await mergeBase(bare, branch, baseRef), worktree };
  }
  // After the cache was rebuilt, a pushed chat branch exists only upstream.
  const pushed = refs.pushedSha;
  const fork = opts.fromCommit && !pushed ? await resolve(bare, opts.fromCommit) : null;
  if (opts.fromCommit && !pushed && !fork) throw badRequest(`commit ${opts.fromCommit} is not in ${repo}`);
  if (opts.useSpare && !pushed && !fork && refs.spareSha && (await claimSpare(cache, repo, branch, worktree, opts.useSpare.log))) {
    return { branch, base, baseCommit: refs.spareSha, worktree };
  }
  const start = pushed ?? fork ?? baseSha;
  await cache.worktreeChange(repo, () =>
    addPruningOnce(bare, ["worktree", "add", "--quiet", "--no-track", ...noCheckout, "-b", branch, "--", worktree, start]),
  );
  const baseCommit = pushed || fork ? await mergeBase(bare, branch, baseRef) : baseSha;
  return { branch, base, baseCommit, worktree };
}

/**
 * The refs a chat's worktree is made from, read in one git call: the base (origin/HEAD's target
 * when none is given), the chat branch, the chat branch as pushed upstream, and the spare's branch.
 */
async function chatRefs(bare: Git, branch: string, wantedBase: string | undefined) {
  const names = [ORIGIN_HEAD, `refs/heads/${branch}`, `refs/remotes/origin/${branch}`, SPARE_REF];
  if (wantedBase) names.push(`refs/remotes/origin/${wantedBase}`);
  const out = await bare.raw(["for-each-ref", "--format=%(refname)%00%(objectname)%00%(symref)", "--", ...names]);
  const refs = new Map(out.split("\n").filter(Boolean).map((line) => {
    const [name, sha, target] = line.split("\0");
    return [name!, { sha: sha!, target: target! }];
  }));
  const originHead = refs.get(ORIGIN_HEAD);
  const base = wantedBase ?? (originHead && originBranch(originHead.target));
  const baseRef = `refs/remotes/origin/${base}`;
  return {
    base,
    baseRef,
    baseSha: refs.get(wantedBase ? baseRef : ORIGIN_HEAD)?.sha ?? null,
    branchSha: refs.get(`refs/heads/${branch}`)?.sha ?? null,
    pushedSha: refs.get(`refs/remotes/origin/${branch}`)?.sha ?? null,
    spareSha: refs.get(SPARE_REF)?.sha ?? null,
  };
}

/**
 * Fills a worktree made with `checkout: false` (no index yet) from its branch; a worktree already
 * checked out is left alone, so calling it again after a crash loses nothing.
 */
export async function checkOutIfEmpty(worktree: string): Promise<void> {
  const dotGit = await readFile(path.join(worktree, ".git"), "utf8");
  const gitDir = path.resolve(worktree, dotGit.replace(/^gitdir: /, "").trim());
  if (await exists(path.join(gitDir, "index"))) return;
  await gitAt(worktree).raw(["checkout", "--force", "--quiet"]);
}

/** `worktree prune` costs ~60 ms on a busy cache, so it runs only when a stale registration is in the way. */
async function addPruningOnce(bare: Git, args: string[]) {
  try {
    await bare.raw(args);
  } catch {
    await bare.raw(["worktree", "prune"]);
    await bare.raw(args);
  }
}

/**
 * For a worktree just forked from the cached base while `fetched` was running: if the fetch moved
 * origin/<base>, move the new (untouched) worktree there once `checkedOut` is done. Lets the fetch
 * and the reading of its result overlap the checkout.
 */
export async function freshenNewWorktree(opts: {
  fetched: Promise<unknown>;
  checkedOut: Promise<void>;
  layout: DataLayout;
  repo: string;
  info: WorktreeInfo;
}): Promise<WorktreeInfo> {
  const bare = gitAt(opts.layout.repoCache(opts.repo));
  const [latest] = await Promise.all([opts.fetched.then(() => resolve(bare, `refs/remotes/origin/${opts.info.base}`)), opts.checkedOut]);
  if (!latest) throw badRequest(`base branch "${opts.info.base}" no longer exists in ${opts.repo}`);
  if (latest === opts.info.baseCommit) return opts.info;
  await gitAt(opts.info.worktree).raw(["reset", "--hard", "--quiet", latest]);
  return { ...opts.info, baseCommit: latest };
}

/** Removes the worktree directory and its registration; the branch stays. */
export async function removeWorktree(opts: { layout: DataLayout; repo: string; chatId: string }): Promise<void> {
  const worktree = opts.layout.worktree(opts.repo, opts.chatId);
  const bareDir = opts.layout.repoCache(opts.repo);
  if (await exists(bareDir)) {
    const bare = gitAt(bareDir);
    if (await exists(worktree)) await tryRaw(bare, ["worktree", "remove", "--force", "--", worktree]);
    await rm(worktree, { recursive: true, force: true });
    await bare.raw(["worktree", "prune"]);
    return;
  }
  await rm(worktree, { recursive: true, force: true });
}

export async function pruneWorktrees(layout: DataLayout, repo: string): Promise<void> {
  const bareDir = layout.repoCache(repo);
  if (!(await exists(bareDir))) return;
  await gitAt(bareDir).raw(["worktree", "prune"]);
}

async function resolve(git: Git, ref: string): Promise<string | null> {
  const out = await tryRaw(git, ["rev-parse", "--verify", "--quiet", "--end-of-options", `${ref}^{commit}`]);
  return out?.trim() || null;
}

async function mergeBase(git: Git, branch: string, baseRef: string): Promise<string> {
  const out = await git.raw(["merge-base", "--end-of-options", `refs/heads/${branch}`, baseRef]);
  return out.trim();
}
