import { existsSync } from "node:fs";
import { readdir, rm, utimes } from "node:fs/promises";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ApiError } from "../../lib/api-error.ts";
import { CloneCache, HEAD_RECHECK_MS, type CloneProgress } from "../../box/git/clone-cache.ts";
import { commitToRemote, git, makeRemote, remoteWithCache, type Remote } from "../helpers/git-fixture.ts";

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

const setup = (remoteOpts: Parameters<typeof makeRemote>[0] = {}) => remoteWithCache(cleanups, remoteOpts);

const upstreamHead = async (remote: Remote, branch = "main") =>
  (await git(remote.remotePath, ["rev-parse", `refs/heads/${branch}`])).trim();

describe("CloneCache.ensure", () => {
  it("clones a bare cache, then fetches new upstream commits without touching chat branches", async () => {
    const { remote, layout, cache } = await setup();
    const first = await cache.ensure(remote.repo);
    expect(first).toMatchObject({ repo: remote.repo, defaultBranch: "main", head: await upstreamHead(remote) });
    expect(first.sizeBytes).toBeGreaterThan(0);

    const dir = layout.repoCache(remote.repo);
    expect(dir).toBe(path.join(layout.reposDir, "acme__widget.git"));
    expect((await git(dir, ["rev-parse", "--is-bare-repository"])).trim()).toBe("true");
    expect(await git(dir, ["for-each-ref", "--format=%(refname)", "refs/heads"])).toBe("");

    // A chat branch lives in the cache's refs/heads; fetch --prune must leave it alone.
    await git(dir, ["update-ref", "refs/heads/ocweb/01HZZZZZZZZZZZZZZZZZZZZZZZ", first.head]);
    const next = await commitToRemote(remote.remotePath, { "NEW.md": "new\n" }, "upstream work");
    const second = await cache.ensure(remote.repo);
    expect(second.head).toBe(next);
    expect(second.head).not.toBe(first.head);
    const chat = await git(dir, ["rev-parse", "refs/heads/ocweb/01HZZZZZZZZZZZZZZZZZZZZZZZ"]);
    expect(chat.trim()).toBe(first.head);
    expect((await git(dir, ["config", "--get", "remote.origin.url"])).trim()).toBe(cache.remoteUrl(remote.repo));
  });

  it("reads a default branch that is not main, and follows a change of it", async () => {
    const { remote, cache } = await setup({ defaultBranch: "trunk", extraBranches: ["develop"] });
    const info = await cache.ensure(remote.repo);
    expect(info.defaultBranch).toBe("trunk");
    expect(info.head).toBe(await upstreamHead(remote, "trunk"));

    await git(remote.remotePath, ["symbolic-ref", "HEAD", "refs/heads/develop"]);
    const after = await cache.ensure(remote.repo);
    expect(after.defaultBranch).toBe("develop");
    expect(after.head).toBe(await upstreamHead(remote, "develop"));
  });

  it("on a chat's refresh, follows a deleted default branch at once and a changed one in the background", async () => {
    const { remote, layout, cache } = await setup({ defaultBranch: "trunk", extraBranches: ["develop"] });
    await cache.ensure(remote.repo);
    const dir = layout.repoCache(remote.repo);
    const originHead = async () => (await git(dir, ["symbolic-ref", "refs/remotes/origin/HEAD"])).trim();

    await git(remote.remotePath, ["symbolic-ref", "HEAD", "refs/heads/develop"]);
    await cache.refresh(remote.repo);
    expect(await originHead()).toBe("refs/remotes/origin/trunk"); // checked less than HEAD_RECHECK_MS ago

    const longAgo = new Date(Date.now() - HEAD_RECHECK_MS - 1000);
    await utimes(path.join(dir, "ocweb-head-checked"), longAgo, longAgo);
    await cache.refresh(remote.repo);
    await expect.poll(originHead, { timeout: 10_000 }).toBe("refs/remotes/origin/develop");

    await git(remote.remotePath, ["branch", "-m", "develop", "next"]);
    await git(remote.remotePath, ["symbolic-ref", "HEAD", "refs/heads/next"]);
    await cache.refresh(remote.repo);
    expect(await originHead()).toBe("refs/remotes/origin/next");
  });

  it("coalesces concurrent calls for one repo into one clone", async () => {
    const { remote, layout, cache } = await setup({ fileCount: 300 });
    const seen: CloneProgress[] = [];
    const a = cache.refresh(remote.repo, (p) => seen.push(p));
    const b = cache.refresh(remote.repo);
    expect(b).toBe(a);
    await Promise.all([a, b]);
    expect(await readdir(layout.reposDir)).toEqual(["acme__widget.git"]);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((p) => p.progress >= 0 && p.progress <= 100)).toBe(true);
    // Once settled, the next call is a new run (a fetch).
    expect(cache.refresh(remote.repo)).not.toBe(a);
    await cache.ensure(remote.repo);
  });

  it("answers 404 repo_not_found for a repo that does not exist, leaving nothing behind", async () => {
    const { layout, cache } = await setup();
    const err = await cache.ensure("acme/missing").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 404, code: "repo_not_found" });
    expect(await readdir(layout.reposDir)).toEqual([]);
    expect(await cache.has("acme/missing")).toBe(false);
  });

  it("rejects a malformed repo with 400", async () => {
    const { cache } = await setup();
    for (const bad of ["acme", "acme/../x", "-x/y", "a/b.git", "a/b/c"]) {
      await expect(cache.ensure(bad)).rejects.toMatchObject({ status: 400 });
    }
  });
});

describe("CloneCache list/has/remove", () => {
  it("lists caches with names, sizes and last use; removes them", async () => {
    const { remote, layout, cache } = await setup({ owner: "some_org", name: "my.repo" });
    expect(await cache.list()).toEqual([]);
    expect(await cache.has(remote.repo)).toBe(false);
    const before = Date.now();
    const info = await cache.ensure(remote.repo);
    const listed = await cache.list();
    expect(listed).toEqual([{ ...info, sizeBytes: listed[0]?.sizeBytes, lastUsedAt: listed[0]?.lastUsedAt }]);
    expect(listed[0]?.repo).toBe("some_org/my.repo");
    expect(listed[0]?.lastUsedAt).toBeGreaterThanOrEqual(before - 1000);
    expect(await cache.has(remote.repo)).toBe(true);

    await cache.remove(remote.repo);
    expect(existsSync(layout.repoCache(remote.repo))).toBe(false);
    expect(await cache.list()).toEqual([]);
    await cache.remove(remote.repo);
  });

  it("refuses to remove a cache while a worktree uses it", async () => {
    const { remote, layout, cache } = await setup();
    const info = await cache.ensure(remote.repo);
    const dir = layout.repoCache(remote.repo);
    const wt = path.join(layout.worktreesDir, "x");
    await git(dir, ["worktree", "add", "--quiet", "-b", "ocweb/01HAAAAAAAAAAAAAAAAAAAAAAA", wt, info.head]);
    await expect(cache.remove(remote.repo)).rejects.toMatchObject({ status: 409 });
    await rm(wt, { recursive: true, force: true });
    await cache.remove(remote.repo);
    expect(existsSync(dir)).toBe(false);
  });

  it("knows when it can push", async () => {
    const { layout } = await setup();
    expect(new CloneCache({ layout, baseUrl: "file:///tmp/x" }).canPush()).toBe(true);
    expect(new CloneCache({ layout, baseUrl: "https://github.com" }).canPush()).toBe(false);
    const withToken = new CloneCache({ layout, baseUrl: "https://github.com/", githubToken: "t" });
    expect(withToken.canPush()).toBe(true);
    expect(withToken.remoteUrl("a/b")).toBe("https://github.com/a/b.git");
  });
});
