import { existsSync, readFileSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commitToRemote, makeRemote } from "../helpers/git-fixture.ts";
import { newChatId, startTestBox, TEST_TOKEN, type BoxHarness } from "../helpers/box-harness.ts";

let remote: Awaited<ReturnType<typeof makeRemote>>;
let box: BoxHarness;

beforeAll(async () => {
  remote = await makeRemote({ owner: "acme", name: "widgets", files: { "README.md": "# widgets\n" } });
  box = await startTestBox({ baseUrl: remote.baseUrl });
});
afterAll(async () => {
  await box?.dispose();
  await remote?.cleanup();
});

describe("a chat on a local bare remote", () => {
  const chatId = newChatId();

  it("POST /mgmt/chats creates the worktree, branch and session; again → 200, same body", async () => {
    const res = await box.call("POST", "/mgmt/chats", { chatId, repo: "acme/widgets" });
    expect(res.status).toBe(201);
    const chat = res.json as Record<string, string>;
    expect(chat).toMatchObject({ chatId, repo: "acme/widgets", branch: `ocweb/${chatId}`, base: "main", status: "idle" });
    expect(chat.sessionId).toMatch(/^ses_/);
    expect(existsSync(path.join(chat.worktree!, "README.md"))).toBe(true);

    const again = await box.call("POST", "/mgmt/chats", { chatId, repo: "acme/widgets" });
    expect(again.status).toBe(200);
    expect((again.json as Record<string, string>).sessionId).toBe(chat.sessionId);

    const clash = await box.call("POST", "/mgmt/chats", { chatId, repo: "acme/other" });
    expect(clash.status).toBe(409);
  });

  it("a prompt that writes a file: file in the worktree, checkpoint pushed, diff lists it", async () => {
    const sent = await box.call("POST", `/mgmt/chats/${chatId}/prompts`, { promptId: "p-write-1", text: "write hello.txt: hi there\nsay: written" });
    expect(sent.status).toBe(202);
    expect(sent.json).toEqual({ promptId: "p-write-1", state: "sent" });

    const chat = await box.waitForChat(chatId, (c) => c.status === "idle");
    expect(readFileSync(path.join(String(chat.worktree), "hello.txt"), "utf8")).toBe("hi there");

    const cps = (await box.call("GET", `/mgmt/chats/${chatId}/checkpoints`)).json as { checkpoints: Array<Record<string, unknown>> };
    expect(cps.checkpoints).toHaveLength(1);
    expect(cps.checkpoints[0]).toMatchObject({ pushed: true, filesChanged: 1 });
    const remoteSha = (await execa("git", ["rev-parse", `refs/heads/ocweb/${chatId}`], { cwd: remote.remotePath })).stdout.trim();
    expect(remoteSha).toBe(cps.checkpoints[0]!.sha);
    const author = (await execa("git", ["log", "-1", "--format=%an|%s", remoteSha], { cwd: remote.remotePath })).stdout;
    expect(author).toBe("ocweb|write hello.txt: hi there");

    const diff = (await box.call("GET", `/mgmt/chats/${chatId}/diff`)).json as { files: unknown[]; patch: string; baseCommit: string };
    expect(diff.files).toEqual([{ path: "hello.txt", status: "added", additions: 1, deletions: 0 }]);
    expect(diff.patch).toContain("+hi there");
  });

  it("the transcript is readable through /oc with the chat's session", async () => {
    const chat = (await box.call("GET", `/mgmt/chats/${chatId}`)).json as Record<string, string>;
    const res = await box.call("GET", `/oc/session/${chat.sessionId}/message`);
    expect(res.status).toBe(200);
    const texts = (res.json as Array<{ parts: Array<{ type: string; text?: string }> }>).flatMap((m) => m.parts).filter((p) => p.type === "text").map((p) => p.text);
    expect(texts.join("\n")).toContain("written");
  });

  it("asks opencode for an uncompressed answer, whatever the client accepts, and passes it through byte for byte", async () => {
    const chat = (await box.call("GET", `/mgmt/chats/${chatId}`)).json as Record<string, string>;
    const route = `/session/${chat.sessionId}/message?directory=${encodeURIComponent(chat.worktree!)}`;
    const sup = box.box.supervisor;
    const raw = (url: string, authorization: string, encoding: string) =>
      new Promise<{ encoding?: string; body: Buffer }>((resolve, reject) =>
        http.get(url, { headers: { authorization, "accept-encoding": encoding } }, (res) => {
          res.toArray().then((chunks) => resolve({ encoding: res.headers["content-encoding"], body: Buffer.concat(chunks) }), reject);
        }).on("error", reject),
      );
    const [gzipped, plain, viaBox] = await Promise.all([
      raw(sup.url + route, sup.authHeader, "gzip"),
      raw(sup.url + route, sup.authHeader, "identity"),
      raw(`${box.url}/oc${route}`, `Bearer ${TEST_TOKEN}`, "gzip"),
    ]);
    expect(gzipped.encoding).toBe("gzip"); // opencode does compress when asked
    expect(viaBox.encoding).toBeUndefined();
    expect(viaBox.body.equals(plain.body)).toBe(true);
  });

  it("a manual checkpoint with nothing to commit answers 204", async () => {
    expect((await box.call("POST", `/mgmt/chats/${chatId}/checkpoint`)).status).toBe(204);
  });

  it("DELETE removes the worktree and keeps the branch; the id is never reused", async () => {
    const chat = (await box.call("GET", `/mgmt/chats/${chatId}`)).json as Record<string, string>;
    expect((await box.call("DELETE", `/mgmt/chats/${chatId}`)).status).toBe(204);
    expect(existsSync(chat.worktree!)).toBe(false);
    expect((await box.call("GET", `/mgmt/chats/${chatId}`)).status).toBe(404);
    const branches = (await execa("git", ["branch", "--list", `ocweb/${chatId}`], { cwd: box.box.services.layout.repoCache("acme/widgets") })).stdout;
    expect(branches).toContain(`ocweb/${chatId}`);
    expect((await box.call("POST", "/mgmt/chats", { chatId, repo: "acme/widgets" })).status).toBe(409);
  });
});

describe("a new chat after an upstream push", () => {
  it("starts from the freshest upstream commit, even though the clone was cached before the push", async () => {
    const pushed = await commitToRemote(remote.remotePath, { "CHANGELOG.md": "v2\n" }, "upstream moved");
    const res = await box.call("POST", "/mgmt/chats", { chatId: newChatId(), repo: "acme/widgets" });
    expect(res.status, res.text).toBe(201);
    const chat = res.json as { baseCommit: string; worktree: string };
    expect(chat.baseCommit).toBe(pushed);
    expect(readFileSync(path.join(chat.worktree, "CHANGELOG.md"), "utf8")).toBe("v2\n");
    expect((await execa("git", ["rev-parse", "HEAD"], { cwd: chat.worktree })).stdout.trim()).toBe(pushed);
  });

  it("several chats made at once after a push all start from it", async () => {
    const pushed = await commitToRemote(remote.remotePath, { "CHANGELOG.md": "v3\n" }, "upstream moved again");
    const made = await Promise.all([1, 2, 3, 4].map(() => box.call("POST", "/mgmt/chats", { chatId: newChatId(), repo: "acme/widgets" })));
    expect(made.map((r) => r.status), made.map((r) => r.text).join("\n")).toEqual([201, 201, 201, 201]);
    for (const r of made) expect((r.json as { baseCommit: string }).baseCommit).toBe(pushed);
  });
});
