import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commitToRemote, makeRemote } from "../helpers/git-fixture.ts";
import { newChatId, startTestBox, type BoxHarness } from "../helpers/box-harness.ts";

let remote: Awaited<ReturnType<typeof makeRemote>>;
let box: BoxHarness;
let clone: string;
let spare: string;

beforeAll(async () => {
  remote = await makeRemote({ owner: "acme", name: "spares", files: { "README.md": "# spares\n" } });
  box = await startTestBox({ baseUrl: remote.baseUrl });
  clone = path.join(box.dataDir, "repos", "acme__spares.git");
  spare = path.join(clone, "ocweb-spare");
});
afterAll(async () => {
  await box?.dispose();
  await remote?.cleanup();
});

const git = async (cwd: string, args: string[]) => (await execa("git", args, { cwd })).stdout.trim();
const newChat = async () => {
  const res = await box.call("POST", "/mgmt/chats", { chatId: newChatId(), repo: "acme/spares" });
  expect(res.status, res.text).toBe(201);
  return res.json as { chatId: string; worktree: string; branch: string; baseCommit: string };
};
async function spareReady() {
  await expect.poll(() => existsSync(path.join(spare, "README.md")), { timeout: 15_000 }).toBe(true);
}

describe("the clone's spare worktree", () => {
  it("is checked out after a chat is made, and the next chat takes it on its own branch", async () => {
    await newChat();
    await spareReady();
    const spareInode = (await execa("stat", ["-c", "%i", spare])).stdout;

    const chat = await newChat();
    expect((await execa("stat", ["-c", "%i", chat.worktree])).stdout).toBe(spareInode);
    expect(await git(chat.worktree, ["symbolic-ref", "HEAD"])).toBe(`refs/heads/${chat.branch}`);
    expect(await git(chat.worktree, ["status", "--porcelain"])).toBe("");
    expect(chat.baseCommit).toBe(await git(remote.remotePath, ["rev-parse", "refs/heads/main"]));
    expect(readFileSync(path.join(chat.worktree, "README.md"), "utf8")).toBe("# spares\n");
    await spareReady(); // and a new spare for the chat after
  });

  it("is moved to upstream's new commits when it is taken", async () => {
    await spareReady();
    const pushed = await commitToRemote(remote.remotePath, { "NEWS.md": "fresh\n" }, "news");
    const chat = await newChat();
    expect(chat.baseCommit).toBe(pushed);
    expect(await git(chat.worktree, ["rev-parse", "HEAD"])).toBe(pushed);
    expect(readFileSync(path.join(chat.worktree, "NEWS.md"), "utf8")).toBe("fresh\n");
    expect(await git(chat.worktree, ["status", "--porcelain"])).toBe("");
  });

  it("goes to one of two chats made at once; the other checks out its own", async () => {
    await spareReady();
    const [a, b] = await Promise.all([newChat(), newChat()]);
    expect(a.worktree).not.toBe(b.worktree);
    for (const chat of [a, b]) {
      expect(await git(chat.worktree, ["symbolic-ref", "HEAD"])).toBe(`refs/heads/${chat.branch}`);
      expect(await git(chat.worktree, ["status", "--porcelain"])).toBe("");
    }
  });

  it("replaces one a crash left half made", async () => {
    await spareReady();
    // Under the box's own turn on the clone: a spare the last test's second chat asked for may still be on its way.
    await box.box.services.cache.worktreeChange("acme/spares", async () => {
      await git(clone, ["worktree", "remove", "--force", spare]);
      await git(clone, ["worktree", "add", "--quiet", "--no-checkout", "-B", "ocweb-spare", `${spare}.making`, "refs/remotes/origin/HEAD"]);
    });
    await newChat();
    await spareReady();
    expect(existsSync(`${spare}.making`)).toBe(false);
    expect(await git(spare, ["status", "--porcelain"])).toBe("");
  });

  it("is made for a repo cloned ahead of its first chat, and does not keep the repo from being deleted", async () => {
    const other = await makeRemote({ owner: "acme", name: "gone", files: { "README.md": "# gone\n" } });
    const otherBox = await startTestBox({ baseUrl: other.baseUrl });
    try {
      expect((await otherBox.call("POST", "/mgmt/repos/clone", { repo: "acme/gone" })).status).toBe(200);
      const otherClone = path.join(otherBox.dataDir, "repos", "acme__gone.git");
      const otherSpare = path.join(otherClone, "ocweb-spare");
      await expect.poll(() => existsSync(path.join(otherSpare, "README.md")), { timeout: 15_000 }).toBe(true);
      const inode = (await execa("stat", ["-c", "%i", otherSpare])).stdout;
      const made = await otherBox.call("POST", "/mgmt/chats", { chatId: newChatId(), repo: "acme/gone" });
      expect(made.status).toBe(201);
      expect((await execa("stat", ["-c", "%i", (made.json as { worktree: string }).worktree])).stdout).toBe(inode);
      await expect.poll(() => existsSync(path.join(otherSpare, "README.md")), { timeout: 15_000 }).toBe(true);
      expect((await otherBox.call("DELETE", `/mgmt/chats/${(made.json as { chatId: string }).chatId}`)).status).toBe(204);
      const res = await otherBox.call("DELETE", "/mgmt/repos/acme/gone");
      expect(res.status, res.text).toBe(204);
      expect(existsSync(otherClone)).toBe(false);
    } finally {
      await otherBox.dispose();
      await other.cleanup();
    }
  });
});
