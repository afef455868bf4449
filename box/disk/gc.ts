import { lstat, readdir, rm } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { type DataLayout, chatIdSchema, repoKey, repoSchema } from "../names.ts";
import { dirBytes } from "./usage.ts";
import { isInside } from "../git/clone-cache.ts";
import { SPARE_DIR } from "../git/spares.ts";

export type GcChat = { chatId: string; repo: string; worktree: string; busy: boolean; archived: boolean };
export type GcRemoved = { kind: "worktree" | "clone" | "worktree-metadata" | "spare"; path: string; bytes: number; reason: string };
export type GcSkipped = { path: string; reason: string };
export type GcOptions = {
  layout: DataLayout;
  budgetBytes: number;
  dryRun: boolean;
  /** Every live chat the box knows; deleted chats are simply absent. */
  chats: GcChat[];
  /** true = no un-checkpointed work in the worktree. */
  isClean: (worktree: string) => Promise<boolean>;
  removeWorktree: (repo: string, chatId: string, worktree: string) => Promise<void>;
  /** Removes the clone's spare worktree (box/git/spares.ts), which lives at <clone>/ocweb-spare. */
  removeSpare: (repo: string) => Promise<void>;
  /** ms since epoch. */
  cloneLastUsed: (repo: string) => Promise<number>;
};
export type GcResult = { removed: GcRemoved[]; freedBytes: number; skipped: GcSkipped[] };

type Entry = { name: string; path: string };

const gitEnv = { LC_ALL: "C", GIT_TERMINAL_PROMPT: "0" };
const worktreeName = /^(.+)__([0-9A-Z]{26})$/;

export async function runGc(opts: GcOptions): Promise<GcResult> {
  const removed: GcRemoved[] = [];
  const skipped: GcSkipped[] = [];
  await collectWorktrees(opts, removed, skipped);
  await pruneMetadata(opts, removed, skipped);
  await evictClones(opts, removed, skipped);
  if (!opts.dryRun) await packClones(opts.layout, skipped);
  return { removed, freedBytes: removed.reduce((n, r) => n + r.bytes, 0), skipped };
}

async function collectWorktrees(opts: GcOptions, removed: GcRemoved[], skipped: GcSkipped[]) {
  const { layout } = opts;
  for (const entry of await childDirs(layout.worktreesDir)) {
    const parsed = parseWorktreeName(entry.name);
    if (!parsed) {
      skipped.push({ path: entry.path, reason: "not a chat worktree" });
      continue;
    }
    const chat = opts.chats.find((c) => c.chatId === parsed.chatId);
    if (chat && !chat.archived) continue;
    if (chat?.busy) {
      skipped.push({ path: entry.path, reason: "busy" });
      continue;
    }
    const clean = await opts.isClean(entry.path).catch((e: unknown) => errorOf(e));
    if (clean instanceof Error) {
      skipped.push({ path: entry.path, reason: `could not check for changes: ${clean.message}` });
      continue;
    }
    if (!clean) {
      skipped.push({ path: entry.path, reason: "uncommitted changes" });
      continue;
    }
    const repo = chat?.repo ?? (await repoForKey(layout, parsed.key));
    if (!repo) {
      skipped.push({ path: entry.path, reason: "cannot tell which repo it belongs to" });
      continue;
    }
    const bytes = await dirBytes(entry.path);
    if (!opts.dryRun) {
      const failed = await assertDirectChild(layout.worktreesDir, entry.path)
        .then(() => opts.removeWorktree(repo, parsed.chatId, entry.path))
        .then(
          () => undefined,
          (e: unknown) => errorOf(e),
        );
      if (failed) {
        skipped.push({ path: entry.path, reason: `remove failed: ${failed.message}` });
        continue;
      }
    }
    removed.push({ kind: "worktree", path: entry.path, bytes, reason: chat ? "chat archived" : "chat deleted" });
  }
}

async function pruneMetadata(opts: GcOptions, removed: GcRemoved[], skipped: GcSkipped[]) {
  for (const clone of await cloneDirs(opts.layout)) {
    const planned = await prunable(clone.path, true);
    if (planned instanceof Error) {
      skipped.push({ path: clone.path, reason: `git worktree prune failed: ${planned.message}` });
      continue;
    }
    if (planned.length === 0) continue;
    const sizes = new Map<string, number>();
    for (const item of planned) sizes.set(item.path, await dirBytes(item.path));
    const done = opts.dryRun ? planned : await prunable(clone.path, false);
    if (done instanceof Error) {
      skipped.push({ path: clone.path, reason: `git worktree prune failed: ${done.message}` });
      continue;
    }
    for (const item of done) {
      removed.push({ kind: "worktree-metadata", path: item.path, bytes: sizes.get(item.path) ?? 0, reason: item.reason });
    }
  }
}

/** Parses `git worktree prune -v` ("Removing worktrees/x: why", on stderr); dryRun leaves everything in place. */
async function prunable(clone: string, dryRun: boolean): Promise<Array<{ path: string; reason: string }> | Error> {
  const args = ["-C", clone, "worktree", "prune", "-v", ...(dryRun ? ["--dry-run"] : [])];
  const result = await execa("git", args, { reject: false, env: gitEnv });
  if (result.exitCode !== 0) return new Error(result.stderr.trim() || result.shortMessage);
  const lines = `${result.stdout}\n${result.stderr}`.split("\n");
  return lines.flatMap((line) => {
    const m = /^Removing (worktrees\/[^:]+): (.+)$/.exec(line.trim());
    if (!m?.[1] || !m[2]) return [];
    return [{ path: path.join(clone, m[1]), reason: `stale worktree metadata: ${m[2]}` }];
  });
}

async function evictClones(opts: GcOptions, removed: GcRemoved[], skipped: GcSkipped[]) {
  const { layout } = opts;
  const alreadyFreed = opts.dryRun ? removed.reduce((n, r) => n + r.bytes, 0) : 0;
  const [repos, worktrees, opencode] = await Promise.all([
    dirBytes(layout.reposDir),
    dirBytes(layout.worktreesDir),
    dirBytes(layout.opencodeDir),
  ]);
  let total = repos + worktrees + opencode - alreadyFreed;
  if (total <= opts.budgetBytes) return;
  total -= await removeSpares(opts, total, removed, skipped);
  if (total <= opts.budgetBytes) return;

  const gone = new Set(removed.map((r) => path.resolve(r.path)));
  const inUse = new Set(opts.chats.map((c) => repoKey(c.repo)));
  for (const entry of await childDirs(layout.worktreesDir)) {
    const parsed = parseWorktreeName(entry.name);
    if (parsed && !gone.has(path.resolve(entry.path))) inUse.add(parsed.key);
  }
  const candidates: Array<Entry & { repo: string; lastUsed: number }> = [];
  for (const clone of await cloneDirs(layout)) {
    const key = clone.name.slice(0, -".git".length);
    if (inUse.has(key) || (await hasLiveWorktrees(clone.path, gone))) continue;
    const repo = await repoForKey(layout, key);
    if (!repo) continue;
    const lastUsed = await opts.cloneLastUsed(repo).catch(() => 0);
    candidates.push({ ...clone, repo, lastUsed });
  }
  candidates.sort((a, b) => a.lastUsed - b.lastUsed || a.name.localeCompare(b.name));

  for (const clone of candidates) {
    if (total <= opts.budgetBytes) return;
    const bytes = await dirBytes(clone.path);
    if (!opts.dryRun) {
      const failed = await assertDirectChild(layout.reposDir, clone.path)
        .then(() => rm(clone.path, { recursive: true, force: true }))
        .then(
          () => undefined,
          (e: unknown) => errorOf(e),
        );
      if (failed) {
        skipped.push({ path: clone.path, reason: `remove failed: ${failed.message}` });
        continue;
      }
    }
    removed.push({ kind: "clone", path: clone.path, bytes, reason: "over budget (LRU)" });
    total -= bytes;
  }
}

/** The housekeeping fetches skip (--no-auto-maintenance): pack loose objects and refs once there are enough. */
async function packClones(layout: DataLayout, skipped: GcSkipped[]) {
  for (const clone of await cloneDirs(layout)) {
    const result = await execa("git", ["-C", clone.path, "-c", "gc.autoDetach=false", "gc", "--auto", "--quiet"], { reject: false, env: gitEnv });
    if (result.exitCode !== 0) skipped.push({ path: clone.path, reason: `git gc failed: ${result.stderr.trim() || result.shortMessage}` });
  }
}

/** Over budget, spares go first: each is only a checkout, made again after the next chat. Returns the bytes freed. */
async function removeSpares(opts: GcOptions, total: number, removed: GcRemoved[], skipped: GcSkipped[]): Promise<number> {
  let freed = 0;
  for (const clone of await cloneDirs(opts.layout)) {
    if (total - freed <= opts.budgetBytes) break;
    const spare = path.join(clone.path, SPARE_DIR);
    if (!(await lstat(spare).then((s) => s.isDirectory(), () => false))) continue;
    const repo = await repoForKey(opts.layout, clone.name.slice(0, -".git".length));
    if (!repo) continue;
    const bytes = await dirBytes(spare);
    const failed = opts.dryRun ? undefined : await opts.removeSpare(repo).then(() => undefined, (e: unknown) => errorOf(e));
    if (failed) {
      skipped.push({ path: spare, reason: `remove failed: ${failed.message}` });
      continue;
    }
    removed.push({ kind: "spare", path: spare, bytes, reason: "over budget (spare worktree)" });
    freed += bytes;
  }
  return freed;
}

/** A worktree git still tracks (not prunable, not removed by this run) pins the clone it borrows objects from. */
async function hasLiveWorktrees(clone: string, gone: Set<string>): Promise<boolean> {
  const result = await execa("git", ["-C", clone, "worktree", "list", "--porcelain"], { reject: false, env: gitEnv });
  if (result.exitCode !== 0) return true;
  const blocks = result.stdout.split(/\n\s*\n/).slice(1);
  return blocks.some((block) => {
    const lines = block.split("\n");
    const where = lines.find((l) => l.startsWith("worktree "))?.slice("worktree ".length);
    // A spare worktree lives inside its clone (box/git/spares.ts) and goes with it.
    if (!where || lines.some((l) => l.startsWith("prunable")) || isInside(clone, where)) return false;
    return !gone.has(path.resolve(where));
  });
}

/** "owner__name" is ambiguous when a segment contains "__"; the clone's origin URL settles it. */
async function repoForKey(layout: DataLayout, key: string): Promise<string | undefined> {
  const clone = path.join(layout.reposDir, `${key}.git`);
  const url = await execa("git", ["-C", clone, "config", "--get", "remote.origin.url"], { reject: false, env: gitEnv });
  const fromUrl = url.stdout.trim().replace(/\/+$/, "").replace(/\.git$/, "").split(/[/:]/).slice(-2).join("/");
  if (repoSchema.safeParse(fromUrl).success && repoKey(fromUrl) === key) return fromUrl;
  const parts = key.split("__");
  for (let i = 1; i < parts.length; i++) {
    const repo = `${parts.slice(0, i).join("__")}/${parts.slice(i).join("__")}`;
    if (repoSchema.safeParse(repo).success) return repo;
  }
  return undefined;
}

function parseWorktreeName(name: string): { key: string; chatId: string } | undefined {
  const m = worktreeName.exec(name);
  if (!m?.[1] || !m[2] || !chatIdSchema.safeParse(m[2]).success) return undefined;
  return { key: m[1], chatId: m[2] };
}

async function cloneDirs(layout: DataLayout): Promise<Entry[]> {
  const entries = await childDirs(layout.reposDir);
  return entries.filter((e) => e.name.endsWith(".git") && e.name.length > ".git".length);
}

/** Real directories directly under parent; symlinks and files are ignored. */
async function childDirs(parent: string): Promise<Entry[]> {
  const entries = await readdir(parent, { withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isDirectory())
    .map((e) => ({ name: e.name, path: path.join(parent, e.name) }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

async function assertDirectChild(parent: string, child: string): Promise<void> {
  const rel = path.relative(path.resolve(parent), path.resolve(child));
  if (!rel || rel.startsWith("..") || rel.includes(path.sep)) throw new Error(`${child} is outside ${parent}`);
  const stat = await lstat(child);
  if (!stat.isDirectory()) throw new Error(`${child} is not a directory`);
}

function errorOf(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}
