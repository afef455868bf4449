import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type StandinUser = { id: number; login: string; name?: string };
export type StandinRepo = { full_name: string; private: boolean; default_branch: string; pushed_at: string };
export type RecordedPull = { repo: string; login: string; number: number; head: string; base: string; title: string; body: string; draft: boolean };
/** An issue of one repo; `pull_request: true` makes it a PR, which GitHub's issues API lists too. */
export type StandinIssue = { number: number; title: string; body?: string | null; state?: "open" | "closed"; labels?: string[]; updated_at?: string; pull_request?: boolean };
type Reply = { status: number; body?: unknown; headers?: Record<string, string> };

export const STANDIN_CLIENT_ID = "standin-client-id";
export const STANDIN_CLIENT_SECRET = "standin-client-secret";

/** GitHub's OAuth and REST wire format on one loopback server: set GITHUB_API_URL = GITHUB_OAUTH_URL = `url`. */
export async function startGithubStandin(opts: { users?: StandinUser[]; repos?: Record<string, StandinRepo[]>; branches?: Record<string, string[]>; issues?: Record<string, StandinIssue[]> } = {}) {
  const users = opts.users ?? [{ id: 1001, login: "alice", name: "Alice A." }];
  const repos = opts.repos ?? {};
  const codes = new Map<string, string>(); // code -> login (single use)
  const tokens = new Map<string, string>(); // token -> login
  const pulls: RecordedPull[] = [];
  const issues: Record<string, StandinIssue[]> = opts.issues ?? {}; // by full_name; the PRs opened here are listed too
  const authorizations: Array<Record<string, string>> = [];
  const state = { nextLogin: users[0]?.login, rateLimited: false };

  const mint = (prefix: string) => `${prefix}_${randomBytes(18).toString("hex")}`;
  const userOf = (login: string) => users.find((u) => u.login.toLowerCase() === login.toLowerCase());
  const reposOf = (login: string) => [...(repos[login] ?? [])].sort((a, b) => b.pushed_at.localeCompare(a.pushed_at));
  const findRepo = (login: string, full: string) => reposOf(login).find((r) => r.full_name.toLowerCase() === full.toLowerCase());
  const branchesOf = (repo: StandinRepo) => opts.branches?.[repo.full_name] ?? [repo.default_branch];
  const issuesOf = (repo: string): Array<StandinIssue & { html_url: string }> => {
    const opened = pulls.filter((p) => p.repo === repo).map((p) => ({ number: p.number, title: p.title, body: p.body, pull_request: true }));
    return [...(issues[repo] ?? []), ...opened].map((i) => ({ ...i, html_url: `https://github.example/${repo}/${i.pull_request ? "pull" : "issues"}/${i.number}` }));
  };
  const nextNumber = (repo: string) => Math.max(0, ...issuesOf(repo).map((i) => i.number)) + 1;
  const sha = (text: string) => Buffer.from(text).toString("hex").padEnd(40, "0").slice(0, 40);

  /** GitHub's pagination: `page`/`per_page` (default 30, max 100) and a Link header with next/last/first/prev. */
  function paginate<T>(base: URL, items: T[]): Reply {
    const perPage = Math.min(Math.max(Number(base.searchParams.get("per_page")) || 30, 1), 100);
    const page = Math.max(Number(base.searchParams.get("page")) || 1, 1);
    const last = Math.max(Math.ceil(items.length / perPage), 1);
    const link = (p: number, rel: string) => {
      const u = new URL(base);
      u.searchParams.set("page", String(p));
      u.searchParams.set("per_page", String(perPage));
      return `<${u}>; rel="${rel}"`;
    };
    const rels = [page > 1 ? link(page - 1, "prev") : "", page < last ? link(page + 1, "next") : "", page < last ? link(last, "last") : "", page > 1 ? link(1, "first") : ""];
    const header = rels.filter(Boolean).join(", ");
    return { status: 200, body: items.slice((page - 1) * perPage, page * perPage), headers: header ? { link: header } : {} };
  }

  function oauth(method: string, url: URL, form: Record<string, string>): Reply | undefined {
    if (method === "GET" && url.pathname === "/login/oauth/authorize") {
      const user = userOf(url.searchParams.get("login") ?? state.nextLogin ?? "");
      const redirect = url.searchParams.get("redirect_uri");
      authorizations.push(Object.fromEntries(url.searchParams));
      if (!user || !redirect || url.searchParams.get("client_id") !== STANDIN_CLIENT_ID) return { status: 400, body: { message: "bad authorize request" } };
      const code = mint("code");
      codes.set(code, user.login);
      const to = new URL(redirect);
      to.searchParams.set("code", code);
      to.searchParams.set("state", url.searchParams.get("state") ?? "");
      return { status: 302, headers: { location: to.toString() } };
    }
    if (method === "POST" && url.pathname === "/login/oauth/access_token") {
      const login = codes.get(form.code ?? "");
      codes.delete(form.code ?? "");
      if (form.client_id !== STANDIN_CLIENT_ID || form.client_secret !== STANDIN_CLIENT_SECRET) {
        return { status: 200, body: { error: "incorrect_client_credentials", error_description: "The client_id and/or client_secret passed are incorrect." } };
      }
      if (!login) return { status: 200, body: { error: "bad_verification_code", error_description: "The code passed is incorrect or expired." } };
      const token = mint("gho");
      tokens.set(token, login);
      return { status: 200, body: { access_token: token, token_type: "bearer", scope: "repo,read:org" } };
    }
    return undefined;
  }

  function api(method: string, url: URL, login: string, json: Record<string, unknown>): Reply {
    const user = userOf(login);
    if (method === "GET" && url.pathname === "/user" && user) {
      return { status: 200, body: { id: user.id, login: user.login, name: user.name ?? null, avatar_url: `https://avatars.example/${user.id}`, type: "User" } };
    }
    if (method === "GET" && url.pathname === "/user/repos") return paginate(url, reposOf(login));
    const m = /^\/repos\/([^/]+)\/([^/]+)(\/branches|\/pulls|\/issues)?$/.exec(url.pathname);
    const repo = m ? findRepo(login, `${decodeURIComponent(m[1]!)}/${decodeURIComponent(m[2]!)}`) : undefined;
    if (!m || !repo) return { status: 404, body: { message: "Not Found", documentation_url: "https://docs.github.com/rest" } };
    if (method === "GET" && !m[3]) return { status: 200, body: { ...repo, name: repo.full_name.split("/")[1], owner: { login: repo.full_name.split("/")[0] } } };
    if (method === "GET" && m[3] === "/branches") return paginate(url, branchesOf(repo).map((name) => ({ name, commit: { sha: sha(name) }, protected: false })));
    if (method === "GET" && m[3] === "/issues") return paginate(url, listIssues(repo.full_name, url.searchParams));
    if (method === "POST" && m[3] === "/pulls") {
      const { head, base, title, body, draft } = json as Partial<Record<string, string>> & { draft?: boolean };
      if (!head || !base || !title) return { status: 422, body: { message: "Validation Failed", errors: [{ message: "head, base and title are required" }] } };
      if (pulls.some((p) => p.repo === repo.full_name && p.head === head)) {
        return { status: 422, body: { message: "Validation Failed", errors: [{ message: `A pull request already exists for ${head}.` }] } };
      }
      const number = nextNumber(repo.full_name);
      pulls.push({ repo: repo.full_name, login, number, head, base, title, body: body ?? "", draft: draft ?? false });
      return { status: 201, body: { number, html_url: `https://github.example/${repo.full_name}/pull/${number}`, draft: draft ?? false, state: "open" } };
    }
    return { status: 404, body: { message: "Not Found" } };
  }

  /** GitHub's filters: state (open|closed|all, default open), sort (created|updated), direction (default desc). */
  function listIssues(repo: string, params: URLSearchParams) {
    const state = params.get("state") ?? "open";
    const sort = params.get("sort") === "updated" ? "updated_at" : "created_at";
    const sign = params.get("direction") === "asc" ? 1 : -1;
    const stamp = (i: StandinIssue) => i.updated_at ?? new Date(Date.UTC(2026, 0, 1) + i.number * 60_000).toISOString();
    return issuesOf(repo)
      .filter((i) => state === "all" || (i.state ?? "open") === state)
      .sort((a, b) => sign * (sort === "updated_at" ? stamp(a).localeCompare(stamp(b)) : a.number - b.number))
      .map((i) => ({
        number: i.number, title: i.title, body: i.body ?? null, state: i.state ?? "open", html_url: i.html_url, updated_at: stamp(i), created_at: stamp(i),
        labels: (i.labels ?? []).map((name) => ({ name, color: "ededed" })),
        ...(i.pull_request ? { pull_request: { url: i.html_url.replace("https://github.example/", "https://api.github.example/repos/"), html_url: i.html_url } } : {}),
      }));
  }

  async function handle(req: IncomingMessage): Promise<Reply> {
    const url = new URL(req.url ?? "/", `http://${req.headers.host}`);
    const method = req.method ?? "GET";
    const raw = await readBody(req);
    const isJson = req.headers["content-type"]?.includes("json");
    const parsed = (isJson && raw ? JSON.parse(raw) : Object.fromEntries(new URLSearchParams(raw))) as Record<string, unknown>;
    const viaOauth = oauth(method, url, parsed as Record<string, string>);
    if (viaOauth) return viaOauth;
    if (state.rateLimited) {
      state.rateLimited = false;
      const reset = String(Math.floor(Date.now() / 1000) + 600);
      return { status: 403, body: { message: "API rate limit exceeded for user." }, headers: { "x-ratelimit-limit": "5000", "x-ratelimit-remaining": "0", "x-ratelimit-reset": reset } };
    }
    const token = /^(?:bearer|token)\s+(\S+)$/i.exec(req.headers.authorization ?? "")?.[1];
    const login = token ? tokens.get(token) : undefined;
    if (!login) return { status: 401, body: { message: "Bad credentials", documentation_url: "https://docs.github.com/rest" } };
    return api(method, url, login, parsed);
  }

  const server = createServer((req, res: ServerResponse) => {
    handle(req).then(
      (reply) => {
        res.writeHead(reply.status, { "content-type": "application/json; charset=utf-8", "x-ratelimit-remaining": "4999", ...reply.headers });
        res.end(reply.body === undefined ? "" : JSON.stringify(reply.body));
      },
      (err: unknown) => {
        res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify({ message: String(err) }));
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    pulls,
    /** Issues by repo full_name; change them between calls as a test needs. */
    issues,
    authorizations,
    /** token -> login for every token handed out. */
    tokens,
    setNextLogin(login: string) {
      state.nextLogin = login;
    },
    /** The next API call (not OAuth) answers 403 with x-ratelimit-remaining: 0, as GitHub does. */
    rateLimitNext() {
      state.rateLimited = true;
    },
    /** Hands out a token directly, as if `login` had signed in. */
    issueToken(login: string) {
      const token = mint("gho");
      tokens.set(token, login);
      return token;
    },
    revokeTokens() {
      tokens.clear();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
export type GithubStandin = Awaited<ReturnType<typeof startGithubStandin>>;

type WorkerLike = { fetch: (route: string, init?: RequestInit) => Promise<Response> };

/** Follows the real redirects: worker /auth/github → stand-in authorize (as `login`) → worker callback; returns the callback's answer. */
export async function githubSignIn(worker: WorkerLike, login?: string): Promise<Response> {
  const start = await worker.fetch("/auth/github");
  if (start.status !== 302) throw new Error(`/auth/github answered ${start.status}: ${await start.text()}`);
  const authorize = new URL(start.headers.get("location") ?? "");
  if (login) authorize.searchParams.set("login", login);
  const approved = await fetch(authorize, { redirect: "manual" });
  if (approved.status !== 302) throw new Error(`authorize answered ${approved.status}: ${await approved.text()}`);
  const callback = new URL(approved.headers.get("location") ?? "");
  return worker.fetch(callback.pathname + callback.search);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
