import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { type GcChat, type GcOptions, runGc } from "../../box/disk/gc.ts";
import { dirBytes, diskUsage } from "../../box/disk/usage.ts";
import { type DataLayout, chatBranch, dataLayout } from "../../box/names.ts";

const gitEnv = {
  GIT_AUTHOR_NAME: "t",
  GIT_AUTHOR_EMAIL: "t@example.com",
  GIT_COMMITTER_NAME: "t",
  GIT_COMMITTER_EMAIL: "t@example.com",
};
const git = (args: string[]) => execa("git", args, { env: gitEnv });
const chatId = (n: number) => `01HZZZ${String(n).padStart(20, "0")}`;
const [LIVE, BUSY, DELETED, DIRTY, ARCHIVED, STALE] = [1, 2, 3, 4, 5, 6].map(chatId) as [string, string, string, string, string, string];

const temps: string[] = [];
afterAll(async () => {
  await Promise.all(temps.map((t) => rm(t, { recursive: true, force: true })));
});

type Fixture = { layout: DataLayout; src: string; outside: string; chats: GcChat[]; lastUsed: Map<string, number> };

/** acme/app has chats; acme/old and acme/idle are cached clones nobody uses (old is the LRU one). */
async function fixture(): Promise<Fixture> {
  const tmp = await mkdtemp(path.join(os.tmpdir(), "ocweb-gc-"));
  temps.push(tmp);
  const layout = dataLayout(path.join(tmp, "data"));
  const src = path.join(tmp, "src");
  const outside = path.join(tmp, "outside");
  await mkdir(layout.worktreesDir, { recursive: true });
  await mkdir(layout.reposDir, { recursive: true });
  await mkdir(outside);
  await writeFile(path.join(outside, "precious.txt"), "keep me");
  await git(["init", "-q", "-b", "main", "--", src]);
  await writeFile(path.join(src, "README.md"), "hello\n".repeat(2000));
  await git(["-C", src, "add", "--", "README.md"]);
  await git(["-C", src, "commit", "-q", "-m", "init"]);
  for (const repo of ["acme/app", "acme/old", "acme/idle"]) {
    await git(["clone", "-q", "--bare", "--", `file://${src}`, layout.repoCache(repo)]);
  }
  for (const id of [LIVE, BUSY, DELETED, DIRTY, ARCHIVED, STALE]) {
    const wt = layout.worktree("acme/app", id);
    await git(["-C", layout.repoCache("acme/app"), "worktree", "add", "-q", "-b", chatBranch(id), "--", wt, "main"]);
  }
  await writeFile(path.join(layout.worktree("acme/app", DIRTY), "wip.txt"), "not checkpointed");
  await writeFile(path.join(layout.worktree("acme/app", BUSY), "wip.txt"), "agent is writing");
  await rm(layout.worktree("acme/app", STALE), { recursive: true });
  // Symlinks named like a deleted chat's worktree and a clone must never be followed.
  await symlink(outside, path.join(layout.worktreesDir, `acme__app__${chatId(7)}`));
  await symlink(outside, path.join(layout.reposDir, "acme__evil.git"));
  const chat = (id: string, busy: boolean, archived: boolean): GcChat => ({
    chatId: id,
    repo: "acme/app",
    worktree: layout.worktree("acme/app", id),
    busy,
    archived,
  });
  const chats = [chat(LIVE, false, false), chat(BUSY, true, true), chat(ARCHIVED, false, true)];
  const lastUsed = new Map([
    ["acme/app", 3000],
    ["acme/old", 1000],
    ["acme/idle", 2000],
  ]);
  return { layout, src, outside, chats, lastUsed };
}

function gcOptions(f: Fixture, budgetBytes: number, dryRun: boolean): GcOptions {
  return {
    layout: f.layout,
    budgetBytes,
    dryRun,
    chats: f.chats,
    isClean: async (wt) => (await execa("git", ["-C", wt, "status", "--porcelain"])).stdout.trim() === "",
    removeWorktree: async (repo, _chatId, wt) => {
      await git(["-C", f.layout.repoCache(repo), "worktree", "remove", "--force", "--", wt]);
    },
    removeSpare: async (repo) => {
      await git(["-C", f.layout.repoCache(repo), "worktree", "remove", "--force", "--", path.join(f.layout.repoCache(repo), "ocweb-spare")]);
    },
    cloneLastUsed: async (repo) => f.lastUsed.get(repo) ?? 0,
  };
}

const summary = (removed: Array<{ kind: string; path: string; reason: string }>) =>
  removed.map((r) => `${r.kind} ${r.path} ${r.reason}`).sort();

async function usedBytes(layout: DataLayout) {
  const u = await diskUsage({ layout, budgetBytes: 0 });
  return u.reposBytes + u.worktreesBytes + u.opencodeBytes;
}

describe("runGc", () => {
  it("removes clean worktrees of deleted and archived chats, skips dirty and busy ones", async () => {
    const f = await fixture();
    const wt = (id: string) => f.layout.worktree("acme/app", id);
    const result = await runGc(gcOptions(f, Number.MAX_SAFE_INTEGER, false));

    const worktrees = result.removed.filter((r) => r.kind === "worktree");
    expect(summary(worktrees)).toEqual(
      [`worktree ${wt(DELETED)} chat deleted`, `worktree ${wt(ARCHIVED)} chat archived`].sort(),
    );
    expect(worktrees.every((r) => r.bytes > 0)).toBe(true);
    expect(existsSync(wt(DELETED))).toBe(false);
    expect(existsSync(wt(ARCHIVED))).toBe(false);
    expect(existsSync(wt(LIVE))).toBe(true);
    expect(await readFile(path.join(wt(DIRTY), "wip.txt"), "utf8")).toBe("not checkpointed");
    expect(await readFile(path.join(wt(BUSY), "wip.txt"), "utf8")).toBe("agent is writing");
    expect(result.skipped).toContainEqual({ path: wt(DIRTY), reason: "uncommitted changes" });
    expect(result.skipped).toContainEqual({ path: wt(BUSY), reason: "busy" });
    expect(result.removed.some((r) => r.kind === "clone")).toBe(false);
    expect(result.freedBytes).toBe(result.removed.reduce((n, r) => n + r.bytes, 0));

    const stale = result.removed.filter((r) => r.kind === "worktree-metadata");
    expect(stale.map((r) => r.path)).toEqual([path.join(f.layout.repoCache("acme/app"), "worktrees", path.basename(wt(STALE)))]);
    const list = (await git(["-C", f.layout.repoCache("acme/app"), "worktree", "list", "--porcelain"])).stdout;
    expect(list).toContain(wt(LIVE));
    expect(list).not.toContain(wt(STALE));
    expect(list).not.toContain(wt(DELETED));

    expect(await readFile(path.join(f.outside, "precious.txt"), "utf8")).toBe("keep me");
    expect(existsSync(path.join(f.layout.worktreesDir, `acme__app__${chatId(7)}`))).toBe(true);

    const again = await runGc(gcOptions(f, Number.MAX_SAFE_INTEGER, false));
    expect(again.removed).toEqual([]);
  });

  it("dryRun reports exactly what a real run removes and touches nothing", async () => {
    const f = await fixture();
    const before = (await git(["-C", f.layout.repoCache("acme/app"), "worktree", "list", "--porcelain"])).stdout;
    const usedBefore = await usedBytes(f.layout);
    const dry = await runGc(gcOptions(f, 1, true));

    expect(dry.removed.length).toBeGreaterThan(0);
    expect(new Set(dry.removed.map((r) => r.kind))).toEqual(new Set(["worktree", "worktree-metadata", "clone"]));
    for (const r of dry.removed) expect(existsSync(r.path)).toBe(true);
    expect(await usedBytes(f.layout)).toBe(usedBefore);
    expect((await git(["-C", f.layout.repoCache("acme/app"), "worktree", "list", "--porcelain"])).stdout).toBe(before);

    const real = await runGc(gcOptions(f, 1, false));
    expect(summary(real.removed)).toEqual(summary(dry.removed));
    for (const r of real.removed) expect(existsSync(r.path)).toBe(false);
  });

  it("over budget evicts clones without chats, least recently used first, and keeps clones with chats", async () => {
    const f = await fixture();
    await runGc(gcOptions(f, Number.MAX_SAFE_INTEGER, false));
    const oldClone = f.layout.repoCache("acme/old");
    const idleClone = f.layout.repoCache("acme/idle");

    const justOverBudget = (await usedBytes(f.layout)) - 1;
    const first = await runGc(gcOptions(f, justOverBudget, false));
    expect(first.removed).toEqual([
      { kind: "clone", path: oldClone, bytes: expect.any(Number), reason: "over budget (LRU)" },
    ]);
    expect(first.removed[0]?.bytes).toBeGreaterThan(0);
    expect(existsSync(oldClone)).toBe(false);
    expect(existsSync(idleClone)).toBe(true);

    const second = await runGc(gcOptions(f, 1, false));
    expect(second.removed.map((r) => r.path)).toEqual([idleClone]);
    expect(existsSync(f.layout.repoCache("acme/app"))).toBe(true);
    expect(existsSync(path.join(f.layout.reposDir, "acme__evil.git"))).toBe(true);
    expect(await readFile(path.join(f.outside, "precious.txt"), "utf8")).toBe("keep me");
  });

  it("over budget gives back a clone's spare worktree before any clone", async () => {
    const f = await fixture();
    await runGc(gcOptions(f, Number.MAX_SAFE_INTEGER, false));
    const app = f.layout.repoCache("acme/app");
    const spare = path.join(app, "ocweb-spare");
    await git(["-C", app, "worktree", "add", "-q", "-B", "ocweb-spare", "--", spare, "main"]);
    const spareBytes = await dirBytes(spare);

    const dry = await runGc(gcOptions(f, (await usedBytes(f.layout)) - 1, true));
    expect(dry.removed).toEqual([{ kind: "spare", path: spare, bytes: spareBytes, reason: "over budget (spare worktree)" }]);
    expect(existsSync(spare)).toBe(true);
    const result = await runGc(gcOptions(f, (await usedBytes(f.layout)) - 1, false));
    expect(result.removed).toEqual(dry.removed);
    expect(existsSync(spare)).toBe(false);
    for (const repo of ["acme/app", "acme/old", "acme/idle"]) expect(existsSync(f.layout.repoCache(repo))).toBe(true);
  });

  it("evicts a clone whose only worktree is its spare", async () => {
    const f = await fixture();
    await runGc(gcOptions(f, Number.MAX_SAFE_INTEGER, false));
    const old = f.layout.repoCache("acme/old");
    await git(["-C", old, "worktree", "add", "-q", "-B", "ocweb-spare", "--", path.join(old, "ocweb-spare"), "main"]);
    // Left in place (as if it could not be removed): it must not pin the clone.
    const result = await runGc({ ...gcOptions(f, 1, false), removeSpare: async () => {} });
    expect(result.removed.filter((r) => r.kind === "clone").map((r) => r.path)).toContain(old);
    expect(existsSync(old)).toBe(false);
  });

  it("keeps a clone whose only chat was deleted while that chat's dirty worktree still needs it", async () => {
    const f = await fixture();
    f.chats = [];
    const result = await runGc(gcOptions(f, 1, false));
    expect(result.skipped).toContainEqual({ path: f.layout.worktree("acme/app", DIRTY), reason: "uncommitted changes" });
    expect(existsSync(f.layout.repoCache("acme/app"))).toBe(true);
    expect(existsSync(f.layout.worktree("acme/app", BUSY))).toBe(true);
    expect(result.removed.filter((r) => r.kind === "clone").map((r) => r.path).sort()).toEqual(
      [f.layout.repoCache("acme/idle"), f.layout.repoCache("acme/old")].sort(),
    );
  });
  it("packs a clone once git's auto-gc limits are passed (the box's fetches leave that to GC)", async () => {
    const f = await fixture();
    const clone = f.layout.repoCache("acme/app");
    const { src } = f;
    await writeFile(path.join(src, "more.txt"), "more\n");
    await git(["-C", src, "add", "--", "more.txt"]);
    await git(["-C", src, "commit", "-q", "-m", "more"]);
    await git(["-C", clone, "-c", "fetch.unpackLimit=1", "fetch", "-q", "--no-auto-maintenance", "origin", "main:main-upstream"]);
    await git(["-C", clone, "config", "gc.autoPackLimit", "1"]);
    const packs = async () => (await readdir(path.join(clone, "objects", "pack"))).filter((n) => n.endsWith(".pack")).length;
    expect(await packs()).toBe(2);

    const dry = await runGc(gcOptions(f, Number.MAX_SAFE_INTEGER, true));
    expect(dry.skipped.filter((s) => s.reason.startsWith("git gc"))).toEqual([]);
    expect(await packs()).toBe(2);
    await runGc(gcOptions(f, Number.MAX_SAFE_INTEGER, false));
    expect(await packs()).toBe(1);
  });
});

describe("diskUsage", () => {
  it("measures the volume and each data dir, and grows with what is written", async () => {
    const f = await fixture();
    const before = await diskUsage({ layout: f.layout, budgetBytes: 12345 });
    expect(before.totalBytes).toBeGreaterThan(0);
    expect(before.freeBytes).toBeGreaterThan(0);
    expect(before.freeBytes).toBeLessThanOrEqual(before.totalBytes);
    expect(before.budgetBytes).toBe(12345);
    expect(before.reposBytes).toBeGreaterThan(0);
    expect(before.worktreesBytes).toBeGreaterThan(0);
    expect(before.opencodeBytes).toBe(0);

    const mib = 1024 * 1024;
    await writeFile(path.join(f.layout.repoCache("acme/old"), "big.bin"), Buffer.alloc(mib, 1));
    const after = await diskUsage({ layout: f.layout, budgetBytes: 12345 });
    expect(after.reposBytes - before.reposBytes).toBeGreaterThanOrEqual(mib);
    expect(after.reposBytes - before.reposBytes).toBeLessThan(mib + 64 * 1024);
    expect(after.worktreesBytes).toBe(before.worktreesBytes);
    expect(await dirBytes(f.outside)).toBeLessThan(mib);
    expect(await dirBytes(path.join(f.outside, "missing"))).toBe(0);
  });
});
