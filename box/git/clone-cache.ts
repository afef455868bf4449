import { randomUUID } from "node:crypto";
import { mkdir, readdir, rename, rm, stat, writeFile, lstat } from "node:fs/promises";
import path from "node:path";
import { ApiError, badRequest, conflict, notFound } from "../../lib/api-error.ts";
import { repoSchema, type DataLayout } from "../names.ts";
import { errorText, fetchingGit, gitAt, redact, tryRaw, type GitAuth } from "./git.ts";
import { exists } from "../lib/exists.ts";
import { KeyedLock } from "../lib/keyed-lock.ts";

export type CloneInfo = { repo: string; defaultBranch: string; head: string; sizeBytes: number };
export type CloneProgress = { stage: string; progress: number; processed?: number; total?: number };
type Listener = (p: CloneProgress) => void;

const lastUsedFile = "ocweb-last-used";
const headCheckedFile = "ocweb-head-checked";
/** How stale a clone's idea of the upstream default branch may get when that branch still exists. */
export const HEAD_RECHECK_MS = 10 * 60_000;
export const ORIGIN_HEAD = "refs/remotes/origin/HEAD";
/** refs/remotes/origin/<branch> → <branch> */
export const originBranch = (ref: string) => ref.replace(/^refs\/remotes\/origin\//, "");

/** Bare clone per repo; refs/heads holds only chat branches, upstream lives in refs/remotes/origin/*. */
export class CloneCache {
  readonly layout: DataLayout;
  readonly baseUrl: string;
  readonly #token: string | undefined;
  readonly #log: (line: string) => void;
  readonly #inflight = new Map<string, { promise: Promise<void>; listeners: Set<Listener> }>();
  /** Per clone, fetches and worktree changes take turns: see worktreeChange. */
  readonly #turns = new KeyedLock();
  /** Background re-reads of upstream's default branch, by repo. */
  readonly #headChecks = new Map<string, Promise<void>>();

  constructor(opts: { layout: DataLayout; baseUrl: string; githubToken?: string; log?: (line: string) => void }) {
    this.layout = opts.layout;
    this.baseUrl = opts.baseUrl.replace(/\/+$/, "");
    this.#token = opts.githubToken || undefined;
    this.#log = opts.log ?? (() => undefined);
  }

  get auth(): GitAuth {
    return { baseUrl: this.baseUrl, githubToken: this.#token };
  }

  remoteUrl(repo: string): string {
    const [owner, name] = checkRepo(repo).split("/");
    return `${this.baseUrl}/${owner}/${name}.git`;
  }

  canPush(): boolean {
    return this.baseUrl.startsWith("file://") || Boolean(this.#token);
  }

  /** Clones if missing, else fetches and re-reads upstream's default branch; concurrent calls for one repo share one run. */
  async ensure(repo: string, onProgress?: Listener): Promise<CloneInfo> {
    await this.refresh(repo, onProgress, { followHead: true });
    return info(repo, this.layout.repoCache(repo));
  }

  /**
   * Clones if missing, else fetches. Upstream's default branch is re-read (one more round trip) only
   * when followHead is set or the one known is gone; otherwise in the background every HEAD_RECHECK_MS.
   */
  refresh(repo: string, onProgress?: Listener, opts: { followHead?: boolean } = {}): Promise<void> {
    if (!repoSchema.safeParse(repo).success) return Promise.reject(badRequest(`invalid repo "${repo}"`));
    const running = this.#inflight.get(repo);
    if (running) {
      if (onProgress) running.listeners.add(onProgress);
      return running.promise;
    }
    const listeners = new Set<Listener>(onProgress ? [onProgress] : []);
    const emit = (p: CloneProgress) => listeners.forEach((l) => l(p));
    const promise = this.#sync(repo, emit, opts.followHead ?? false).finally(() => this.#inflight.delete(repo));
    this.#inflight.set(repo, { promise, listeners });
    return promise;
  }

  /**
   * Runs a `git worktree add` (or similar) on the clone between fetches: a fetch's connectivity check
   * reads every worktree's admin files and fails ("failed to read worktrees/…/commondir") on one that
   * is still being written.
   */
  worktreeChange<T>(repo: string, change: () => Promise<T>): Promise<T> {
    return this.#turns.run(repo, change);
  }

  async list(): Promise<Array<CloneInfo & { lastUsedAt: number }>> {
    const names = await readdir(this.layout.reposDir).catch(() => [] as string[]);
    const repos = names.filter((n) => n.endsWith(".git") && !n.startsWith("."));
    return Promise.all(repos.map((n) => this.#listed(path.join(this.layout.reposDir, n))));
  }

  async has(repo: string): Promise<boolean> {
    return exists(path.join(this.layout.repoCache(checkRepo(repo)), "HEAD"));
  }

  /** Deletes the cache; refuses while a chat worktree still uses it. */
  async remove(repo: string): Promise<void> {
    await this.#inflight.get(repo)?.promise.catch(() => undefined);
    await this.#headChecks.get(repo);
    if (!(await this.has(repo))) return;
    const dir = this.layout.repoCache(repo);
    const git = gitAt(dir);
    await git.raw(["worktree", "prune"]);
    const list = await git.raw(["worktree", "list", "--porcelain"]);
    // Not counted: the clone itself, and its spare worktree, which lives inside it (spares.ts).
    const worktrees = list.split("\n").filter((l) => l.startsWith("worktree ") && !isInside(dir, l.slice("worktree ".length))).length;
    if (worktrees > 0) throw conflict(`${repo} is used by ${worktrees} chat worktree(s)`);
    await this.#turns.run(repo, () => rm(dir, { recursive: true, force: true }));
  }

  async #sync(repo: string, emit: Listener, followHead: boolean): Promise<void> {
    const dir = this.layout.repoCache(repo);
    if (await this.has(repo)) await this.#fetch(repo, dir, emit, followHead);
    else await this.#clone(repo, dir, emit);
    await writeFile(path.join(dir, lastUsedFile), "");
  }

  async #clone(repo: string, dir: string, emit: Listener) {
    await mkdir(this.layout.reposDir, { recursive: true });
    const tmp = path.join(this.layout.reposDir, `.tmp-${path.basename(dir, ".git")}-${randomUUID()}.git`);
    await mkdir(tmp);
    try {
      const git = gitAt(tmp);
      await git.raw(["init", "--bare", "--quiet"]);
      await git.raw(["remote", "add", "origin", this.remoteUrl(repo)]);
      await git.raw(["config", "ocweb.repo", repo]);
      // Auto-gc must not detach: orphaned git processes would outlive the request.
      await git.raw(["config", "gc.autoDetach", "false"]);
      await this.#fetch(repo, tmp, emit, true);
      // Another box process may have won the race; its clone is as good as ours.
      await rename(tmp, dir).catch(async (err: unknown) => {
        if (!(await this.has(repo))) throw err;
      });
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }

  async #fetch(repo: string, dir: string, emit: Listener, followHead: boolean) {
    const progress = (e: CloneProgress) => emit({ stage: e.stage, progress: e.progress, processed: e.processed, total: e.total });
    const git = fetchingGit(dir, { auth: this.auth, progress });
    try {
      // Upstream branches land in refs/remotes/origin/* only, so chat branches in refs/heads are never touched.
      // No auto-maintenance: packing the cache is disk GC's work, not a new chat's.
      const args = ["--prune", "--no-auto-maintenance", "--progress", "origin", "+refs/heads/*:refs/remotes/origin/*"];
      await this.#turns.run(repo, () => git.fetch(args));
      if (!followHead && (await resolvesOriginHead(dir))) {
        if (await olderThan(path.join(dir, headCheckedFile), HEAD_RECHECK_MS)) this.#setHeadInBackground(repo, dir);
        return;
      }
      await this.#setHead(dir);
    } catch (err) {
      throw this.#classify(repo, err);
    }
    if (!(await resolvesOriginHead(dir))) throw badRequest(`${repo} has no commits`);
  }

  async #setHead(dir: string) {
    await writeFile(path.join(dir, headCheckedFile), "");
    await gitAt(dir, { auth: this.auth }).raw(["remote", "set-head", "origin", "--auto"]);
  }

  #setHeadInBackground(repo: string, dir: string) {
    if (this.#headChecks.has(repo)) return;
    const check = this.#setHead(dir)
      .catch((err: unknown) => this.#log(`${repo}: re-reading the default branch failed: ${this.#classify(repo, err).message}`))
      .finally(() => this.#headChecks.delete(repo));
    this.#headChecks.set(repo, check);
  }

  #classify(repo: string, err: unknown): ApiError {
    const text = redact(errorText(err), this.auth);
    if (/Cannot determine remote HEAD/i.test(text)) return badRequest(`${repo} has no commits`);
    if (/does not appear to be a git repository|repository .* not found|could not read Username|terminal prompts disabled|error: 404/i.test(text)) {
      return new ApiError(404, "repo_not_found", `repository ${repo} not found (or not accessible with the configured credentials)`);
    }
    if (/Authentication failed|error: 40[13]/i.test(text)) {
      return new ApiError(502, "git_auth_failed", `git authentication failed for ${repo}; check GITHUB_TOKEN`);
    }
    const detail = text.split("\n").filter(Boolean).slice(-3).join(" ").slice(0, 500);
    return new ApiError(502, "git_remote_error", `fetching ${repo} failed: ${detail}`);
  }

  async #listed(dir: string): Promise<CloneInfo & { lastUsedAt: number }> {
    const git = gitAt(dir);
    const configured = (await tryRaw(git, ["config", "--get", "ocweb.repo"]))?.trim();
    const repo = configured || path.basename(dir, ".git").replace("__", "/");
    const used = await stat(path.join(dir, lastUsedFile)).catch(() => stat(dir));
    const base = await info(repo, dir).catch(async () => ({ repo, defaultBranch: "", head: "", sizeBytes: await diskBytes(dir) }));
    return { ...base, lastUsedAt: Math.floor(used.mtimeMs) };
  }
}

/** refs/remotes/origin/HEAD exists and points at a branch that exists (for-each-ref skips a dangling one). */
async function resolvesOriginHead(dir: string): Promise<boolean> {
  const out = await gitAt(dir).raw(["for-each-ref", "--format=%(symref)", "--", ORIGIN_HEAD]);
  return out.trim() !== "";
}

async function olderThan(file: string, ms: number): Promise<boolean> {
  const s = await stat(file).catch(() => null);
  return !s || Date.now() - s.mtimeMs > ms;
}

/** `child` is `dir` or below it. */
export const isInside = (dir: string, child: string) => !path.relative(dir, child).startsWith("..");

function checkRepo(repo: string): string {
  if (!repoSchema.safeParse(repo).success) throw badRequest(`invalid repo "${repo}"`);
  return repo;
}

async function readDefaultBranch(dir: string): Promise<string> {
  const ref = await gitAt(dir).raw(["symbolic-ref", "--quiet", ORIGIN_HEAD]);
  return originBranch(ref.trim());
}

async function info(repo: string, dir: string): Promise<CloneInfo> {
  const defaultBranch = await readDefaultBranch(dir);
  const head = await gitAt(dir).raw(["rev-parse", "--verify", "--end-of-options", `refs/remotes/origin/${defaultBranch}^{commit}`]);
  return { repo, defaultBranch, head: head.trim(), sizeBytes: await diskBytes(dir) };
}

/** Bytes allocated on disk (like du), not apparent size. */
export async function diskBytes(dir: string): Promise<number> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const sizes = await Promise.all(
    entries.map(async (e) => {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) return diskBytes(p);
      const s = await lstat(p).catch(() => null);
      return s ? s.blocks * 512 : 0;
    }),
  );
  return sizes.reduce((a, b) => a + b, 0);
}
