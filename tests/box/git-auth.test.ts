import { spawn } from "node:child_process";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiError } from "../../lib/api-error.ts";
import { checkpoint } from "../../box/git/checkpoints.ts";
import { CloneCache } from "../../box/git/clone-cache.ts";
import { addWorktree } from "../../box/git/worktrees.ts";
import { dataLayout } from "../../box/names.ts";
import { git, makeRemote, type Remote } from "../helpers/git-fixture.ts";

const token = "ghp_FAKE0123456789abcdefTOKENxyz";
const header = Buffer.from(`x-access-token:${token}`).toString("base64");
const chatId = "01J00000000000000000000AUT";

/** A private "GitHub": git http-backend behind a check of the Basic header git sends. */
function startGitServer(root: string) {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    requests.push(`${req.method} ${url.pathname}`);
    if (req.headers.authorization !== `Basic ${header}`) {
      res.writeHead(401, { "WWW-Authenticate": 'Basic realm="git"' }).end();
      return;
    }
    const child = spawn("git", ["http-backend"], {
      env: {
        PATH: process.env.PATH,
        GIT_PROJECT_ROOT: root,
        GIT_HTTP_EXPORT_ALL: "1",
        REMOTE_USER: "x-access-token",
        REMOTE_ADDR: "127.0.0.1",
        REQUEST_METHOD: req.method,
        PATH_INFO: decodeURIComponent(url.pathname),
        QUERY_STRING: url.search.slice(1),
        CONTENT_TYPE: req.headers["content-type"] ?? "",
        ...(req.headers["content-length"] ? { CONTENT_LENGTH: req.headers["content-length"] } : {}),
        ...(req.headers["content-encoding"] ? { HTTP_CONTENT_ENCODING: req.headers["content-encoding"] } : {}),
      },
    });
    req.pipe(child.stdin);
    const out: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.on("close", () => {
      const body = Buffer.concat(out);
      const split = body.indexOf("\r\n\r\n");
      const headers = body.subarray(0, split).toString().split("\r\n");
      const status = Number(headers.find((h) => h.startsWith("Status:"))?.split(" ")[1] ?? 200);
      const pairs = headers.filter((h) => !h.startsWith("Status:")).map((h) => h.split(/:\s*/, 2) as [string, string]);
      res.writeHead(status, Object.fromEntries(pairs)).end(body.subarray(split + 4));
    });
  });
  return new Promise<{ baseUrl: string; requests: string[]; close: () => Promise<void> }>((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      const close = () => new Promise<void>((r) => server.close(() => r()));
      resolve({ baseUrl: `http://127.0.0.1:${port}`, requests, close });
    });
  });
}

async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

async function filesContaining(dir: string, needles: string[]): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  const hits: string[] = [];
  for (const e of entries.filter((x) => x.isFile())) {
    const file = path.join(e.parentPath, e.name);
    const text = (await readFile(file)).toString("latin1");
    if (needles.some((n) => text.includes(n))) hits.push(file);
  }
  return hits;
}

let remote: Remote;
let server: Awaited<ReturnType<typeof startGitServer>>;
const dirs: string[] = [];
const freshLayout = async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), "ocweb-data-"));
  dirs.push(dir);
  return dataLayout(dir);
};

beforeAll(async () => {
  remote = await makeRemote({ owner: "acme", name: "private", fileCount: 50 });
  server = await startGitServer(remote.root);
});
afterAll(async () => {
  await server?.close();
  await remote?.cleanup();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe("GITHUB_TOKEN over http(s)", () => {
  it("clones and pushes with the token sent only as a header, never written to disk", async () => {
    const layout = await freshLayout();
    const cache = new CloneCache({ layout, baseUrl: server.baseUrl, githubToken: token });
    expect(cache.canPush()).toBe(true);
    const info = await cache.ensure(remote.repo);
    expect(info.head).toBe((await git(remote.remotePath, ["rev-parse", "refs/heads/main"])).trim());

    const config = await readFile(path.join(layout.repoCache(remote.repo), "config"), "utf8");
    expect(config).toContain(`url = ${server.baseUrl}/acme/private.git`);
    expect(config).not.toContain(token);
    expect(config).not.toContain(header);

    const chat = await addWorktree({ cache, layout, repo: remote.repo, chatId });
    await writeFile(path.join(chat.worktree, "change.txt"), "pushed over http\n");
    const result = await checkpoint({ ...chat, message: "over http", push: { auth: cache.auth } });
    expect(result).toMatchObject({ pushed: true });
    const upstream = await git(remote.remotePath, ["rev-parse", `refs/heads/${chat.branch}`]);
    expect(upstream.trim()).toBe(result?.sha);

    expect(await filesContaining(layout.dataDir, [token, header])).toEqual([]);
    expect(server.requests.some((r) => r.endsWith("/git-receive-pack"))).toBe(true);
  });

  it("coalesces concurrent ensure calls into one set of requests", async () => {
    const countFor = async (calls: number) => {
      const cache = new CloneCache({ layout: await freshLayout(), baseUrl: server.baseUrl, githubToken: token });
      const before = server.requests.length;
      await Promise.all(Array.from({ length: calls }, () => cache.ensure(remote.repo)));
      return server.requests.length - before;
    };
    const single = await countFor(1);
    expect(single).toBeGreaterThan(0);
    expect(await countFor(3)).toBe(single);
  });

  it("answers 404 without a token, or with a wrong one, and never echoes the token", async () => {
    for (const githubToken of [undefined, "ghp_WRONGwrongWRONG"]) {
      const layout = await freshLayout();
      const cache = new CloneCache({ layout, baseUrl: server.baseUrl, githubToken });
      const err = await cache.ensure(remote.repo).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ApiError);
      expect(err).toMatchObject({ status: 404, code: "repo_not_found" });
      expect(JSON.stringify({ message: (err as Error).message, ...(err as object) })).not.toContain("WRONG");
      expect(await readdir(layout.reposDir)).toEqual([]);
    }
  });

  it("fails fast on an unreachable https host without leaking the token", async () => {
    const layout = await freshLayout();
    const baseUrl = `https://127.0.0.1:${await closedPort()}`;
    const cache = new CloneCache({ layout, baseUrl, githubToken: token });
    const err = await cache.ensure("acme/private").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 502, code: "git_remote_error" });
    const text = `${(err as Error).message} ${(err as Error).stack} ${JSON.stringify(err)}`;
    expect(text).not.toContain(token);
    expect(text).not.toContain(header);
    expect(await readdir(layout.reposDir)).toEqual([]);
    expect(await filesContaining(layout.dataDir, [token, header])).toEqual([]);
  });
});
