import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWorkerOnNode } from "../../worker/node.ts";
import { githubSignIn, startGithubStandin, STANDIN_CLIENT_ID, STANDIN_CLIENT_SECRET, type GithubStandin, type StandinIssue } from "../helpers/github-standin.ts";
import { startTestWorker, type TestWorker } from "../helpers/worker-harness.ts";

type Issue = { number: number; title: string; body: string; url: string; labels: string[]; updatedAt: string };
type IssueList = { issues: Issue[]; nextPage?: number; note?: string };
type ApiErr = { error: { code: string; message: string } };

/** 70 items, newest update last: every 7th a pull request, every 10th closed; #33 is the "flaky" one. */
const items: StandinIssue[] = Array.from({ length: 70 }, (_, i) => {
  const n = i + 1;
  return {
    number: n,
    title: n === 33 ? "Flaky login test" : `Issue number ${n}`,
    body: n === 33 ? "It fails one run in ten.\n\nSee CI." : n % 2 ? `Body of ${n}` : null,
    state: n % 10 === 0 ? "closed" : "open",
    labels: n === 33 ? ["bug", "tests"] : [],
    updated_at: new Date(Date.UTC(2026, 0, 1) + n * 60_000).toISOString(),
    pull_request: n % 7 === 0,
  };
});
/** What the worker must list: open issues (no PRs), most recently updated first. */
const expected = items.filter((i) => i.state === "open" && !i.pull_request).map((i) => i.number).reverse();

let gh: GithubStandin;
let worker: TestWorker;
const list = (query = "", repo = "acme/app") => worker.json<IssueList & ApiErr>(`/api/repos/${repo}/issues${query}`);
const numbers = (body: IssueList) => body.issues.map((i) => i.number);

beforeAll(async () => {
  gh = await startGithubStandin({
    users: [{ id: 601, login: "alice" }],
    repos: { alice: [{ full_name: "acme/app", private: true, default_branch: "main", pushed_at: "2026-01-01T00:00:00Z" }] },
    issues: { "acme/app": items },
  });
  worker = await startTestWorker({
    bindings: { GITHUB_CLIENT_ID: STANDIN_CLIENT_ID, GITHUB_CLIENT_SECRET: STANDIN_CLIENT_SECRET, GITHUB_API_URL: gh.url, GITHUB_OAUTH_URL: gh.url, ALLOWED_GITHUB_USERS: "alice", DEV_LOGIN: "1" },
  });
  expect((await githubSignIn(worker, "alice")).status).toBe(302);
});
afterAll(async () => {
  await worker?.dispose();
  await gh?.close();
});

describe("GET /api/repos/:owner/:name/issues", () => {
  it("lists open issues only, pull requests left out, newest update first, over GitHub's pages", async () => {
    const first = await list();
    expect(first.status, first.text).toBe(200);
    expect(first.body.nextPage).toBe(2);
    const second = await list("?page=2");
    const third = second.body.nextPage ? await list(`?page=${second.body.nextPage}`) : undefined;
    const all = [...numbers(first.body), ...numbers(second.body), ...(third ? numbers(third.body) : [])];
    expect(all).toEqual(expected);
    expect(first.body.issues.length).toBeLessThan(30); // GitHub's page of 30 minus the PRs on it
  });

  it("answers each issue's number, title, body, URL, labels and update time", async () => {
    const res = await list("?q=flaky");
    expect(res.body.issues).toEqual([
      { number: 33, title: "Flaky login test", body: "It fails one run in ten.\n\nSee CI.", url: "https://github.example/acme/app/issues/33", labels: ["bug", "tests"], updatedAt: items[32]!.updated_at },
    ]);
    expect(numbers((await list("?q=%2333")).body)).toEqual([33]);
    expect(numbers((await list("?q=12")).body)).toEqual([12]);
    expect(numbers((await list("?q=14")).body)).toEqual([]); // #14 is a pull request
    expect((await list("?q=nothing-like-it")).body).toEqual({ issues: [] });
    expect((await list("?q=68")).body.issues.map((i) => i.body)).toEqual([""]); // GitHub's null body
  });

  it("a pull request opened through the worker's GitHub stays out of the list", async () => {
    gh.issues["acme/app"] = [{ number: 1, title: "Only issue" }];
    try {
      const pull = await fetch(`${gh.url}/repos/acme/app/pulls`, {
        method: "POST",
        headers: { authorization: `Bearer ${gh.issueToken("alice")}`, "content-type": "application/json" },
        body: JSON.stringify({ head: "ocweb/x", base: "main", title: "A PR", body: "" }),
      });
      expect(pull.status).toBe(201);
      expect((await list()).body).toEqual({ issues: [expect.objectContaining({ number: 1, title: "Only issue" })] });
    } finally {
      gh.issues["acme/app"] = items;
    }
  });

  it("turns GitHub's rate limit into 429 with the reset time; unknown repos 404; bad input 400", async () => {
    gh.rateLimitNext();
    const limited = await list();
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe("github_rate_limited");
    expect(limited.body.error.message).toMatch(/^GitHub rate limit; resets at \d{4}-/);
    expect((await list()).status).toBe(200);
    expect((await list("", "acme/nope")).status).toBe(404);
    for (const [query, repo] of [["?page=0", "acme/app"], ["?page=x", "acme/app"], [`?q=${"a".repeat(101)}`, "acme/app"], ["", "acme/app.git"], ["", "-acme/app"]] as const) {
      const res = await list(query, repo);
      expect(res.status, `${repo}${query}`).toBe(400);
      expect(res.body.error.message).toBeTruthy();
    }
  });

  it("a user without a GitHub token gets an empty list with a note", async () => {
    const alice = worker.jar.get("ocweb_session")!;
    worker.jar.clear();
    await worker.signInDev("dave");
    const res = await list();
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ issues: [], note: expect.stringMatching(/sign in with GitHub/) });
    worker.jar.clear();
    worker.jar.set("ocweb_session", alice);
  });
});

describe("POST /api/chats with an issue", () => {
  type Chat = { id: string; issueUrl?: string; groupId?: string };
  const issue = { number: 33, url: "https://github.example/acme/app/issues/33" };

  it("stores the issue URL on the chat (and on every attempt)", async () => {
    const one = await worker.json<{ chat: Chat }>("/api/chats", { method: "POST", body: { repo: "acme/app", issue, prompt: { text: "Fix #33" } } });
    expect(one.status, one.text).toBe(201);
    expect(one.body.chat.issueUrl).toBe(issue.url);
    expect((await worker.json<{ chat: Chat }>(`/api/chats/${one.body.chat.id}`)).body.chat.issueUrl).toBe(issue.url);
    const group = await worker.json<{ group: { chats: Chat[] } }>("/api/chats", { method: "POST", body: { repo: "ACME/App", issue, attempts: 2, prompt: { text: "Fix #33" } } });
    expect(group.status, group.text).toBe(201);
    expect(group.body.group.chats.map((c) => c.issueUrl)).toEqual([issue.url, issue.url]);
    const plain = await worker.json<{ chat: Chat }>("/api/chats", { method: "POST", body: { repo: "acme/app" } });
    expect(plain.body.chat.issueUrl).toBeUndefined();
  });

  it("refuses an issue of another repo, another number or a URL that is not one (400)", async () => {
    const bad = [
      { number: 33, url: "https://github.example/acme/other/issues/33" },
      { number: 34, url: issue.url },
      { number: 33, url: "javascript:alert(1)//acme/app/issues/33" },
      { number: 0, url: "https://github.example/acme/app/issues/0" },
      { number: 33, url: "not a url" },
    ];
    for (const i of bad) {
      const res = await worker.json<ApiErr>("/api/chats", { method: "POST", body: { repo: "acme/app", issue: i, prompt: { text: "x" } } });
      expect(res.status, JSON.stringify(i)).toBe(400);
      expect(res.body.error.message).toMatch(/issue/);
    }
  });
});

describe("local repos (the Node dev server with a file:// GIT_BASE_URL)", () => {
  it("answer an empty list with a note, not an error", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "ocweb-local-issues-"));
    mkdirSync(path.join(dir, "acme", "app.git"), { recursive: true });
    const node = await startWorkerOnNode({
      port: 0,
      env: { DATABASE_URL: pathToFileURL(path.join(dir, "worker.db")).href, SESSION_SECRET: "node-secret-0123456789abcdef", DEV_LOGIN: "1", GIT_BASE_URL: pathToFileURL(dir).href },
    });
    try {
      const signIn = await fetch(`${node.url}/auth/dev?login=frank`, { redirect: "manual" });
      const cookie = signIn.headers.getSetCookie()[0]?.split(";")[0] ?? "";
      const res = await fetch(`${node.url}/api/repos/acme/app/issues`, { headers: { cookie } });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ issues: [], note: expect.stringMatching(/local git repo/) });
    } finally {
      await node.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
