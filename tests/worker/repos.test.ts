import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ApiError } from "../../lib/api-error.ts";
import type { Env } from "../../worker/env.ts";
import { githubClient } from "../../worker/github/client.ts";
import { startWorkerOnNode } from "../../worker/node.ts";
import { touchRecentRepo } from "../../worker/routes/repos.ts";
import { githubSignIn, startGithubStandin, STANDIN_CLIENT_ID, STANDIN_CLIENT_SECRET, type GithubStandin, type StandinRepo } from "../helpers/github-standin.ts";
import { startTestWorker, type TestWorker } from "../helpers/worker-harness.ts";

type Repo = { fullName: string; private: boolean; defaultBranch: string | null; pushedAt: string | null };
type RepoList = { repos: Repo[]; nextPage?: number };
type ApiErr = { error: { code: string; message: string } };

const OWNERS = ["acme", "alice", "partner"];
const TOOLS = new Set([7, 64, 118]);
/** Repo i was pushed i hours before 2026-01-01, so i is also its place in GitHub's sort=pushed order. */
const nameOf = (i: number) => `${OWNERS[i % 3]}/${TOOLS.has(i) ? "Widget-Tool" : "repo"}-${String(i).padStart(3, "0")}`;
const aliceRepos: StandinRepo[] = Array.from({ length: 120 }, (_, i) => ({
  full_name: nameOf(i),
  private: i % 2 === 0,
  default_branch: i === 1 ? "trunk" : "main",
  pushed_at: new Date(Date.UTC(2026, 0, 1) - i * 3_600_000).toISOString(),
}));
const manyBranches = Array.from({ length: 150 }, (_, i) => `b-${String(i).padStart(3, "0")}`);

let gh: GithubStandin;
let worker: TestWorker;
const list = (query = "") => worker.json<RepoList & ApiErr>(`/api/repos${query}`);
const names = (body: RepoList) => body.repos.map((r) => r.fullName);
const tick = () => new Promise((r) => setTimeout(r, 5));

beforeAll(async () => {
  gh = await startGithubStandin({
    users: [{ id: 501, login: "alice", name: "Alice" }],
    repos: { alice: aliceRepos },
    branches: { [nameOf(0)]: ["develop", "feature/x", "main"], [nameOf(1)]: [...manyBranches, "trunk"] },
  });
  worker = await startTestWorker({
    bindings: {
      GITHUB_CLIENT_ID: STANDIN_CLIENT_ID,
      GITHUB_CLIENT_SECRET: STANDIN_CLIENT_SECRET,
      GITHUB_API_URL: gh.url,
      GITHUB_OAUTH_URL: gh.url,
      ALLOWED_GITHUB_USERS: "alice",
      DEV_LOGIN: "1",
    },
  });
});
afterAll(async () => {
  await worker?.dispose();
  await gh?.close();
});

describe("without a session", () => {
  it("answers 401", async () => {
    worker.jar.clear();
    expect((await list()).status).toBe(401);
    expect((await list("?q=x&page=2")).status).toBe(401);
    expect((await worker.json(`/api/repos/${nameOf(0)}/branches`)).status).toBe(401);
  });
});

describe("GET /api/repos for a GitHub user", () => {
  beforeAll(async () => {
    worker.jar.clear();
    expect((await githubSignIn(worker, "alice")).status).toBe(302);
  });

  it("pages through GitHub's Link header, most recently pushed first", async () => {
    const pages = [await list(), await list("?page=2"), await list("?page=3")];
    expect(pages.map((p) => p.status)).toEqual([200, 200, 200]);
    expect(pages.map((p) => p.body.repos.length)).toEqual([50, 50, 20]);
    expect(pages.map((p) => p.body.nextPage)).toEqual([2, 3, undefined]);
    expect(pages.flatMap((p) => names(p.body))).toEqual(aliceRepos.map((r) => r.full_name));
    expect(pages[0]?.body.repos[1]).toEqual({ fullName: nameOf(1), private: false, defaultBranch: "trunk", pushedAt: aliceRepos[1]?.pushed_at });
  });

  it("filters by q case-insensitively across all of GitHub's pages", async () => {
    const tools = await list("?q=tOOl");
    expect(tools.status).toBe(200);
    expect(names(tools.body)).toEqual([nameOf(7), nameOf(64), nameOf(118)]);
    expect(tools.body.nextPage).toBeUndefined();
    expect(names((await list("?q=ACME/repo-10")).body)).toEqual([nameOf(102), nameOf(105), nameOf(108)]);
    expect((await list("?q=nothing-like-this")).body).toEqual({ repos: [] });
  });

  it("validates q and page", async () => {
    expect((await list(`?q=${"a".repeat(101)}`)).status).toBe(400);
    for (const page of ["0", "101", "abc", "1.5"]) {
      const res = await list(`?page=${page}`);
      expect(res.status, page).toBe(400);
      expect(res.body.error.message).toMatch(/page/);
    }
  });

  it("puts recent repos first on page 1, newest first, and only there", async () => {
    await touchRecentRepo(worker.db, "501", nameOf(90));
    await tick();
    await touchRecentRepo(worker.db, "501", nameOf(100).toUpperCase()); // stored as typed; matched case-insensitively
    await tick();
    await touchRecentRepo(worker.db, "501", "ghost/gone"); // no longer visible on GitHub: dropped
    const first = await list();
    expect(names(first.body).slice(0, 3)).toEqual([nameOf(100), nameOf(90), nameOf(0)]);
    expect(first.body.repos).toHaveLength(52);
    const second = await list("?page=2");
    expect(names(second.body)).not.toContain(nameOf(90));
    expect(second.body.repos).toHaveLength(49);
    expect(names((await list("?q=repo-09")).body)[0]).toBe(nameOf(90));

    await tick();
    await touchRecentRepo(worker.db, "501", nameOf(90));
    expect(names((await list()).body).slice(0, 2)).toEqual([nameOf(90), nameOf(100)]);
  });

  it("turns GitHub's rate limit into a 429 with the reset time, once", async () => {
    gh.rateLimitNext();
    const limited = await list("?page=3");
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe("github_rate_limited");
    expect(limited.body.error.message).toMatch(/^GitHub rate limit; resets at \d{4}-\d\d-\d\dT/);
    expect((await list("?page=3")).status).toBe(200);
  });
});

describe("GET /api/repos/:owner/:name/branches", () => {
  it("lists branches with the default branch first", async () => {
    const res = await worker.json<{ branches: Array<{ name: string }>; defaultBranch: string }>(`/api/repos/${nameOf(0)}/branches`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ branches: [{ name: "main" }, { name: "develop" }, { name: "feature/x" }], defaultBranch: "main" });
  });

  it("follows GitHub's pages of branches", async () => {
    const res = await worker.json<{ branches: Array<{ name: string }>; defaultBranch: string }>(`/api/repos/${nameOf(1)}/branches`);
    expect(res.body.defaultBranch).toBe("trunk");
    expect(res.body.branches.map((b) => b.name)).toEqual(["trunk", ...manyBranches]);
  });

  it("answers 404 for a repo GitHub does not show and 400 for a bad name", async () => {
    expect((await worker.json("/api/repos/acme/nope/branches")).status).toBe(404);
    expect((await worker.json("/api/repos/-acme/app/branches")).status).toBe(400);
    expect((await worker.json("/api/repos/acme/app.git/branches")).status).toBe(400);
  });
});

describe("the GitHub client", () => {
  const env = (): Env => ({ DATABASE_URL: "unused", SESSION_SECRET: "unused", GITHUB_API_URL: gh.url });

  it("opens a pull request and reports GitHub's refusal of a duplicate as 422", async () => {
    const client = githubClient(env(), gh.issueToken("alice"));
    const pull = { head: "ocweb/01J0000000000000000000000A", base: "main", title: "Add hello", body: "from ocweb", draft: true };
    const created = await client.createPull("acme", "repo-000", pull);
    expect(created).toEqual({ number: expect.any(Number), url: expect.stringMatching(/\/acme\/repo-000\/pull\/\d+$/) });
    expect(gh.pulls.at(-1)).toMatchObject({ repo: "acme/repo-000", login: "alice", ...pull });
    const again = await client.createPull("acme", "repo-000", pull).catch((err: unknown) => err);
    expect(again).toBeInstanceOf(ApiError);
    expect(again).toMatchObject({ status: 422, code: "github_rejected", message: expect.stringContaining("already exists") });
  });

  it("maps a rejected token to 401 github_unauthorized", async () => {
    const err = await githubClient(env(), "gho_unknown").getUser().catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 401, code: "github_unauthorized", message: "GitHub token expired: sign in again" });
  });
});

describe("a user without a GitHub token", () => {
  beforeAll(async () => {
    worker.jar.clear();
    expect((await worker.fetch("/auth/dev?login=dave")).status).toBe(302);
  });

  it("sees only their recent repos, and no branches", async () => {
    expect((await list()).body).toEqual({ repos: [] });
    await touchRecentRepo(worker.db, "dev:dave", "acme/app");
    expect((await list()).body).toEqual({ repos: [{ fullName: "acme/app", private: false, defaultBranch: null, pushedAt: null }] });
    expect((await list("?page=2")).body).toEqual({ repos: [] });
    expect((await worker.json("/api/repos/acme/app/branches")).body).toEqual({ branches: [], defaultBranch: null });
  });
});

describe("GitHub's 401 through the worker", () => {
  beforeEach(async () => {
    worker.jar.clear();
    expect((await githubSignIn(worker, "alice")).status).toBe(302);
  });

  it("answers 401 github_unauthorized once GitHub rejects the stored token", async () => {
    gh.revokeTokens();
    const res = await list();
    expect(res.status).toBe(401);
    expect(res.body.error).toEqual({ code: "github_unauthorized", message: "GitHub token expired: sign in again" });
  });
});

describe("local repos (file:// GIT_BASE_URL)", () => {
  it("answers an empty list in workerd, which has no filesystem", async () => {
    const local = await startTestWorker({ bindings: { DEV_LOGIN: "1", GIT_BASE_URL: "file:///srv/git" } });
    try {
      await local.signInDev("erin");
      await touchRecentRepo(local.db, "dev:erin", "acme/app");
      expect((await local.json("/api/repos")).body).toEqual({ repos: [] });
    } finally {
      await local.dispose();
    }
  });

  it("lists owner/name.git folders on the Node dev server, recent first, filtered by q", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "ocweb-local-repos-"));
    for (const repo of ["acme/app.git", "acme/lib.git", "bob/tool.git", "bob/not-a-repo"]) mkdirSync(path.join(dir, repo), { recursive: true });
    const node = await startWorkerOnNode({
      port: 0,
      env: { DATABASE_URL: pathToFileURL(path.join(dir, "worker.db")).href, SESSION_SECRET: "node-secret-0123456789abcdef", DEV_LOGIN: "1", GIT_BASE_URL: pathToFileURL(dir).href },
    });
    try {
      const signIn = await fetch(`${node.url}/auth/dev?login=frank`, { redirect: "manual" });
      expect(signIn.status).toBe(302);
      const cookie = signIn.headers.getSetCookie()[0]?.split(";")[0] ?? "";
      const get = async (route: string) => (await (await fetch(node.url + route, { headers: { cookie } })).json()) as RepoList;
      expect(names(await get("/api/repos"))).toEqual(["acme/app", "acme/lib", "bob/tool"]);
      expect(names(await get("/api/repos?q=LIB"))).toEqual(["acme/lib"]);
      const { createClient } = await import("@libsql/client");
      const { dbFrom } = await import("../../worker/db/client.ts");
      const client = createClient({ url: pathToFileURL(path.join(dir, "worker.db")).href });
      await touchRecentRepo(dbFrom(client), "dev:frank", "bob/tool");
      client.close();
      expect(names(await get("/api/repos"))).toEqual(["bob/tool", "acme/app", "acme/lib"]);
    } finally {
      await node.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
