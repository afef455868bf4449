import { existsSync, readFileSync } from "node:fs";
import { rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { addWorktree, checkOutIfEmpty, pruneWorktrees, removeWorktree } from "../../box/git/worktrees.ts";
import { commitToRemote, git, makeRemote, remoteWithCache } from "../helpers/git-fixture.ts";

const chatA = "01J0000000000000000000000A";
const chatB = "01J0000000000000000000000B";
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

const setup = (remoteOpts: Parameters<typeof makeRemote>[0] = {}) => remoteWithCache(cleanups, remoteOpts);

const branchesOf = async (dir: string) =>
  (await git(dir, ["for-each-ref", "--format=%(refname)", "refs/heads"])).trim().split("\n").filter(Boolean);

describe("addWorktree", () => {
  it("adds worktrees while the clone fetches new objects, and neither fails (they take turns)", async () => {
    const { remote, layout, cache, repo } = await setup();
    await cache.ensure(repo);
    for (let round = 0; round < 8; round++) {
      await commitToRemote(remote.remotePath, { [`round-${round}.md`]: `${round}\n`.repeat(5000) }, `round ${round}`);
      const chats = Array.from({ length: 6 }, (_, i) => `01J00000000000000000000R${round}${i}`);
      const results = await Promise.allSettled([
        cache.refresh(repo),
        ...chats.map((chatId) => addWorktree({ cache, layout, repo, chatId, fetch: false, checkout: false })),
      ]);
      expect(results.filter((r) => r.status === "rejected")).toEqual([]);
    }
  });

  it("creates a worktree on ocweb/<chatId> from the freshest origin/<default>, idempotently", async () => {
    const { remote, layout, cache, repo } = await setup();
    await cache.ensure(repo);
    // Upstream moves after the cache was made: a new chat must fork from the new head.
    const head = await commitToRemote(remote.remotePath, { "LATEST.md": "latest\n" }, "latest");

    const info = await addWorktree({ cache, layout, repo, chatId: chatA });
    expect(info).toEqual({ branch: `ocweb/${chatA}`, base: "main", baseCommit: head, worktree: layout.worktree(repo, chatA) });
    expect(info.worktree).toBe(path.join(layout.worktreesDir, `acme__widget__${chatA}`));
    expect(readFileSync(path.join(info.worktree, "LATEST.md"), "utf8")).toBe("latest\n");
    expect((await git(info.worktree, ["symbolic-ref", "HEAD"])).trim()).toBe(`refs/heads/ocweb/${chatA}`);
    expect(await git(info.worktree, ["status", "--porcelain"])).toBe("");

    // Work in progress survives a second add; baseCommit stays the fork point even after upstream moves.
    await writeFile(path.join(info.worktree, "wip.txt"), "wip\n");
    await commitToRemote(remote.remotePath, { "LATER.md": "later\n" }, "later");
    await cache.ensure(repo);
    const again = await addWorktree({ cache, layout, repo, chatId: chatA });
    expect(again).toEqual(info);
    expect(readFileSync(path.join(info.worktree, "wip.txt"), "utf8")).toBe("wip\n");
  });

  it("registers a worktree without its files (checkout: false); checkOutIfEmpty fills it once and never again", async () => {
    const { layout, cache, repo } = await setup();
    const info = await addWorktree({ cache, layout, repo, chatId: chatA, checkout: false });
    expect(existsSync(path.join(info.worktree, "README.md"))).toBe(false);
    expect((await git(info.worktree, ["symbolic-ref", "HEAD"])).trim()).toBe(`refs/heads/ocweb/${chatA}`);

    await checkOutIfEmpty(info.worktree);
    expect(readFileSync(path.join(info.worktree, "README.md"), "utf8")).toBe("# widget\n");
    expect(await git(info.worktree, ["status", "--porcelain"])).toBe("");

    // Called again (a retried create after a crash), it must not throw away the agent's edits.
    await writeFile(path.join(info.worktree, "README.md"), "edited\n");
    await checkOutIfEmpty(info.worktree);
    expect(readFileSync(path.join(info.worktree, "README.md"), "utf8")).toBe("edited\n");
  });

  it("coalesces concurrent adds of one chat", async () => {
    const { layout, cache, repo } = await setup();
    const [a, b] = await Promise.all([
      addWorktree({ cache, layout, repo, chatId: chatA }),
      addWorktree({ cache, layout, repo, chatId: chatA }),
    ]);
    expect(b).toEqual(a);
  });

  it("forks from a base branch when asked, and answers 400 for a base that does not exist", async () => {
    const { remote, layout, cache, repo } = await setup({ extraBranches: ["release/1.x"] });
    const info = await addWorktree({ cache, layout, repo, chatId: chatA, base: "release/1.x" });
    const releaseHead = (await git(remote.remotePath, ["rev-parse", "refs/heads/release/1.x"])).trim();
    expect(info).toMatchObject({ base: "release/1.x", baseCommit: releaseHead });
    expect(existsSync(path.join(info.worktree, "branch-release_1.x.txt"))).toBe(true);

    await expect(addWorktree({ cache, layout, repo, chatId: chatB, base: "nope" })).rejects.toMatchObject({ status: 400 });
    await expect(addWorktree({ cache, layout, repo, chatId: chatB, base: "--upload-pack=x" })).rejects.toMatchObject({ status: 400 });
    await expect(addWorktree({ cache, layout, repo, chatId: "not-a-ulid" })).rejects.toMatchObject({ status: 400 });
    expect(existsSync(layout.worktree(repo, chatB))).toBe(false);
  });

  it("answers 404 when the repo does not exist", async () => {
    const { layout, cache } = await setup();
    await expect(addWorktree({ cache, layout, repo: "acme/ghost", chatId: chatA })).rejects.toMatchObject({ status: 404 });
  });
});

describe("removeWorktree", () => {
  it("removes the worktree, keeps the branch, and can reattach it later", async () => {
    const { layout, cache, repo } = await setup();
    const info = await addWorktree({ cache, layout, repo, chatId: chatA });
    const bare = layout.repoCache(repo);
    await writeFile(path.join(info.worktree, "dirty.txt"), "x\n");
    await git(info.worktree, ["add", "dirty.txt"]);
    await git(info.worktree, ["commit", "-q", "-m", "chat work"]);
    const tip = (await git(info.worktree, ["rev-parse", "HEAD"])).trim();
    await writeFile(path.join(info.worktree, "untracked.txt"), "y\n");

    await removeWorktree({ layout, repo, chatId: chatA });
    expect(existsSync(info.worktree)).toBe(false);
    expect(await branchesOf(bare)).toEqual([`refs/heads/ocweb/${chatA}`]);
    expect((await git(bare, ["worktree", "list", "--porcelain"])).match(/^worktree /gm)).toHaveLength(1);
    await removeWorktree({ layout, repo, chatId: chatA });

    const back = await addWorktree({ cache, layout, repo, chatId: chatA });
    expect(back.baseCommit).toBe(info.baseCommit);
    expect((await git(back.worktree, ["rev-parse", "HEAD"])).trim()).toBe(tip);
    expect(readFileSync(path.join(back.worktree, "dirty.txt"), "utf8")).toBe("x\n");
  });

  it("cleans up a worktree whose directory vanished, and tolerates a missing cache", async () => {
    const { layout, cache, repo } = await setup();
    const info = await addWorktree({ cache, layout, repo, chatId: chatA });
    await rm(info.worktree, { recursive: true, force: true });
    await pruneWorktrees(layout, repo);
    const list = await git(layout.repoCache(repo), ["worktree", "list", "--porcelain"]);
    expect(list).not.toContain(info.worktree);
    await removeWorktree({ layout, repo: "acme/never-cloned", chatId: chatB });
    await pruneWorktrees(layout, "acme/never-cloned");
  });

  it("restores a chat branch from upstream after the cache was rebuilt", async () => {
    const { remote, layout, cache, repo } = await setup();
    const info = await addWorktree({ cache, layout, repo, chatId: chatA });
    await writeFile(path.join(info.worktree, "pushed.txt"), "p\n");
    await git(info.worktree, ["add", "pushed.txt"]);
    await git(info.worktree, ["commit", "-q", "-m", "pushed work"]);
    await git(info.worktree, ["push", "-q", "origin", `ocweb/${chatA}`]);
    const tip = (await git(info.worktree, ["rev-parse", "HEAD"])).trim();
    await removeWorktree({ layout, repo, chatId: chatA });
    await cache.remove(repo);

    const back = await addWorktree({ cache, layout, repo, chatId: chatA });
    expect(back.baseCommit).toBe(info.baseCommit);
    expect((await git(back.worktree, ["rev-parse", "HEAD"])).trim()).toBe(tip);
    expect((await git(remote.remotePath, ["rev-parse", `refs/heads/ocweb/${chatA}`])).trim()).toBe(tip);
  });
});
