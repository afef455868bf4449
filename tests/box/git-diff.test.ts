import { mkdir, mkdtemp, readFile, rename, rm, unlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { checkpoint } from "../../box/git/checkpoints.ts";
import { CloneCache } from "../../box/git/clone-cache.ts";
import { diffAgainstBase } from "../../box/git/diff.ts";
import { addWorktree } from "../../box/git/worktrees.ts";
import { dataLayout } from "../../box/names.ts";
import { git, makeRemote } from "../helpers/git-fixture.ts";

const chatId = "01J00000000000000000000DIF";
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

const files = {
  "README.md": "line 1\nline 2\nline 3\n",
  "src/gone.ts": "one\ntwo\n",
  "src/staged.ts": "s\n",
  "docs/long-stable-file.md": Array.from({ length: 20 }, (_, i) => `stable line ${i}\n`).join(""),
  ".gitignore": "*.log\n",
};

async function setup() {
  const remote = await makeRemote({ files });
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "ocweb-data-"));
  cleanups.push(remote.cleanup, () => rm(dataDir, { recursive: true, force: true }));
  const layout = dataLayout(dataDir);
  const cache = new CloneCache({ layout, baseUrl: remote.baseUrl });
  return addWorktree({ cache, layout, repo: remote.repo, chatId });
}

const at = (worktree: string, file: string) => path.join(worktree, file);

describe("diffAgainstBase", () => {
  it("includes committed, staged, unstaged, untracked and deleted files without touching the real index", async () => {
    const { worktree, branch, baseCommit } = await setup();
    const empty = await diffAgainstBase({ worktree, baseCommit });
    expect(empty).toEqual({ head: baseCommit, files: [], patch: "" });

    await writeFile(at(worktree, "committed.txt"), "c1\nc2\n");
    const cp = await checkpoint({ worktree, branch, message: "committed" });

    await writeFile(at(worktree, "README.md"), "line 1\nline two\nline 3\nline 4\n");
    await unlink(at(worktree, "src/gone.ts"));
    await writeFile(at(worktree, "src/staged.ts"), "s\nt\n");
    await git(worktree, ["add", "src/staged.ts"]);
    await mkdir(at(worktree, "notes"));
    await writeFile(at(worktree, "notes/untracked.md"), "u1\nu2\nu3\n");
    await writeFile(at(worktree, "debug.log"), "ignored\n");
    await writeFile(at(worktree, "logo.bin"), Buffer.from([0, 1, 2, 3, 0, 255, 0]));
    await rename(at(worktree, "docs/long-stable-file.md"), at(worktree, "docs/moved-stable-file.md"));

    const statusBefore = await git(worktree, ["status", "--porcelain"]);
    const indexPath = path.resolve(worktree, (await git(worktree, ["rev-parse", "--git-path", "index"])).trim());
    const indexBefore = await readFile(indexPath);

    const diff = await diffAgainstBase({ worktree, baseCommit });
    expect(diff.head).toBe(cp?.sha);
    const byPath = Object.fromEntries(diff.files.map((f) => [f.path, f]));
    expect(byPath).toEqual({
      "committed.txt": { path: "committed.txt", status: "added", additions: 2, deletions: 0 },
      "README.md": { path: "README.md", status: "modified", additions: 2, deletions: 1 },
      "src/gone.ts": { path: "src/gone.ts", status: "deleted", additions: 0, deletions: 2 },
      "src/staged.ts": { path: "src/staged.ts", status: "modified", additions: 1, deletions: 0 },
      "notes/untracked.md": { path: "notes/untracked.md", status: "added", additions: 3, deletions: 0 },
      "logo.bin": { path: "logo.bin", status: "added", additions: 0, deletions: 0 },
      "docs/moved-stable-file.md": { path: "docs/moved-stable-file.md", status: "renamed", additions: 0, deletions: 0 },
    });
    expect(diff.patch).toContain("+line two");
    expect(diff.patch).toContain("+u3");
    expect(diff.patch).toContain("Binary files");
    expect(diff.patch).not.toContain("debug.log");

    expect(await git(worktree, ["status", "--porcelain"])).toBe(statusBefore);
    const indexAfter = await readFile(indexPath);
    expect(indexAfter.equals(indexBefore)).toBe(true);
    expect(await git(worktree, ["diff", "--cached", "--name-only"])).toBe("src/staged.ts\n");
  });

  it("handles paths with spaces, tabs and unicode", async () => {
    const { worktree, baseCommit } = await setup();
    const names = ["with space.txt", "tab\there.txt", "ünï cødé.md"];
    for (const n of names) await writeFile(at(worktree, n), "a\nb\n");
    const diff = await diffAgainstBase({ worktree, baseCommit });
    expect(diff.files.map((f) => f.path).sort()).toEqual([...names].sort());
    expect(diff.files.every((f) => f.status === "added" && f.additions === 2)).toBe(true);
  });

  it("rejects a baseCommit that is not a sha", async () => {
    const { worktree } = await setup();
    await expect(diffAgainstBase({ worktree, baseCommit: "--output=/tmp/x" })).rejects.toMatchObject({ status: 400 });
  });
});
