import { mkdtemp, rm, unlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { checkpoint, commitMessage, isClean, listCheckpoints } from "../../box/git/checkpoints.ts";
import { CloneCache } from "../../box/git/clone-cache.ts";
import { addWorktree } from "../../box/git/worktrees.ts";
import { dataLayout } from "../../box/names.ts";
import { commitToRemote, git, makeRemote } from "../helpers/git-fixture.ts";

const chatId = "01J00000000000000000000CPT";
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function setup() {
  const remote = await makeRemote({ files: { "README.md": "# hi\n", "src/a.ts": "a\n", ".gitignore": "*.log\n" } });
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "ocweb-data-"));
  cleanups.push(remote.cleanup, () => rm(dataDir, { recursive: true, force: true }));
  const layout = dataLayout(dataDir);
  const cache = new CloneCache({ layout, baseUrl: remote.baseUrl });
  const chat = await addWorktree({ cache, layout, repo: remote.repo, chatId });
  return { remote, cache, ...chat };
}

describe("checkpoint", () => {
  it("commits everything as ocweb on the chat branch and pushes it to origin", async () => {
    const { remote, cache, worktree, branch, baseCommit } = await setup();
    expect(await isClean(worktree)).toBe(true);
    expect(await checkpoint({ worktree, branch, message: "nothing" })).toBeNull();

    await writeFile(path.join(worktree, "README.md"), "# hello\n");
    await writeFile(path.join(worktree, "new.txt"), "new\n");
    await writeFile(path.join(worktree, "debug.log"), "ignored\n");
    await unlink(path.join(worktree, "src/a.ts"));
    expect(await isClean(worktree)).toBe(false);

    const first = await checkpoint({ worktree, branch, message: "Edit readme\n\nand more", push: { auth: cache.auth } });
    expect(first).toMatchObject({ filesChanged: 3, pushed: true });
    expect(first?.pushError).toBeUndefined();
    expect(await isClean(worktree)).toBe(true);

    const meta = await git(worktree, ["log", "-1", "--format=%an <%ae>|%cn <%ce>|%B", "HEAD"]);
    expect(meta.trim()).toBe("ocweb <ocweb@users.noreply.local>|ocweb <ocweb@users.noreply.local>|Edit readme\n\nand more");
    expect((await git(worktree, ["rev-parse", "HEAD"])).trim()).toBe(first?.sha);
    expect((await git(worktree, ["symbolic-ref", "HEAD"])).trim()).toBe(`refs/heads/${branch}`);
    expect((await git(worktree, ["ls-files", "debug.log"])).trim()).toBe("");
    const upstream = await git(remote.remotePath, ["rev-parse", `refs/heads/${branch}`]);
    expect(upstream.trim()).toBe(first?.sha);

    expect(await checkpoint({ worktree, branch, message: "again", push: { auth: cache.auth } })).toBeNull();

    await writeFile(path.join(worktree, "second.txt"), "2\n");
    // A message that looks like options stays a message.
    const second = await checkpoint({ worktree, branch, message: "--amend" });
    expect(second).toMatchObject({ filesChanged: 1, pushed: false });
    const list = await listCheckpoints({ gitDir: worktree, baseCommit, head: "HEAD" });
    expect(list.map((c) => c.sha)).toEqual([second?.sha, first?.sha]);
    expect(list.map((c) => c.message)).toEqual(["--amend", "Edit readme\n\nand more"]);
    expect(list.map((c) => c.filesChanged)).toEqual([1, 3]);
    expect(list[0]?.files).toEqual(["second.txt"]);
    expect(list.every((c) => !Number.isNaN(Date.parse(c.createdAt)))).toBe(true);
    expect(await listCheckpoints({ gitDir: worktree, baseCommit: second?.sha ?? "", head: "HEAD" })).toEqual([]);
  });

  it("keeps the commit and reports pushError when the push is rejected", async () => {
    const { remote, cache, worktree, branch } = await setup();
    // Someone else owns the branch upstream: our push is not a fast-forward.
    await commitToRemote(remote.remotePath, { "theirs.txt": "x\n" }, "theirs", branch);
    await writeFile(path.join(worktree, "mine.txt"), "mine\n");
    const result = await checkpoint({ worktree, branch, message: "mine", push: { auth: cache.auth } });
    expect(result).toMatchObject({ pushed: false, filesChanged: 1 });
    expect(result?.pushError).toMatch(/reject|fetch first|non-fast-forward/i);
    expect(result?.pushError).not.toMatch(/hint:/);
    expect((await git(worktree, ["rev-parse", "HEAD"])).trim()).toBe(result?.sha);
    expect(await isClean(worktree)).toBe(true);
  });

  it("refuses a worktree that is not on the given branch", async () => {
    const { worktree } = await setup();
    await writeFile(path.join(worktree, "x.txt"), "x\n");
    await expect(checkpoint({ worktree, branch: "ocweb/OTHER", message: "m" })).rejects.toMatchObject({ status: 409 });
    expect(await isClean(worktree)).toBe(false);
  });

  it("rejects a baseCommit that is not a sha", async () => {
    const { worktree } = await setup();
    await expect(listCheckpoints({ gitDir: worktree, baseCommit: "--all", head: "HEAD" })).rejects.toMatchObject({ status: 400 });
  });
});

describe("commitMessage", () => {
  it("keeps the subject to 72 chars and puts the rest after a blank line", () => {
    expect(commitMessage("fix it")).toEqual(["fix it"]);
    expect(commitMessage("  \n")).toEqual(["checkpoint"]);
    expect(commitMessage("subject\r\nline 2\nline 3\n")).toEqual(["subject", "line 2\nline 3"]);
    const long = "x".repeat(100);
    const [subject, body] = commitMessage(`${long}\nmore`);
    expect(subject).toHaveLength(72);
    expect(body).toBe(`${long}\n\nmore`);
    expect(commitMessage("-m --amend")).toEqual(["-m --amend"]);
  });
});
