import { eq } from "drizzle-orm";
import type { Context } from "hono";
import { ApiError, notFound } from "../../lib/api-error.ts";
import { decryptSecret } from "../auth/crypto.ts";
import type { AppEnv } from "../context.ts";
import { users } from "../db/schema.ts";
import { githubApi, githubOauth, type Env } from "../env.ts";

/** `defaultBranch`/`pushedAt` are null when unknown (local repos, empty repos). */
export type RepoSummary = { fullName: string; private: boolean; defaultBranch: string | null; pushedAt: string | null };
export type RepoPage = { repos: RepoSummary[]; nextPage?: number };
export type GithubUser = { id: number; login: string; name: string | null; avatarUrl: string | null };
export type Branch = { name: string; commit: string };
export type PullInput = { head: string; base: string; title: string; body: string; draft: boolean };
export type IssueSummary = { number: number; title: string; body: string; url: string; labels: string[]; updatedAt: string };
export type IssuePage = { issues: IssueSummary[]; nextPage?: number };

type RawRepo = { full_name: string; private: boolean; default_branch?: string; pushed_at?: string | null };
type RawIssue = { number: number; title: string; body?: string | null; html_url: string; labels?: Array<string | { name?: string }>; updated_at: string; pull_request?: unknown };

const HEADERS = { "user-agent": "ocweb", accept: "application/vnd.github+json", "x-github-api-version": "2022-11-28" };
const PAGE_SIZE = 50;
const ISSUE_PAGE_SIZE = 30;
const SCAN_PAGE_SIZE = 100;
const SCAN_MAX_PAGES = 10;
const BRANCH_MAX_PAGES = 5;

const toSummary = (r: RawRepo): RepoSummary => ({
  fullName: r.full_name,
  private: r.private,
  defaultBranch: r.default_branch ?? null,
  pushedAt: r.pushed_at ?? null,
});

const toIssue = (i: RawIssue): IssueSummary => ({
  number: i.number,
  title: i.title,
  body: i.body ?? "",
  url: i.html_url,
  labels: (i.labels ?? []).map((l) => (typeof l === "string" ? l : (l.name ?? ""))).filter(Boolean),
  updatedAt: i.updated_at,
});

/**
 * Pages `pageSize` at a time over the items of up to SCAN_MAX_PAGES of GitHub's pages that `keep`
 * (GitHub's list endpoints cannot filter by text).
 */
async function scanPages<T>(fetchPage: (page: number) => Promise<{ items: T[]; nextPage?: number }>, keep: (item: T) => boolean, page: number, pageSize: number) {
  const matches: T[] = [];
  let scan: number | undefined = 1;
  for (let n = 0; scan !== undefined && n < SCAN_MAX_PAGES && matches.length <= page * pageSize; n++) {
    const found: { items: T[]; nextPage?: number } = await fetchPage(scan);
    matches.push(...found.items.filter(keep));
    scan = found.nextPage;
  }
  const start = (page - 1) * pageSize;
  return { items: matches.slice(start, start + pageSize), nextPage: matches.length > start + pageSize ? page + 1 : undefined };
}

/** The page number of rel="next" in a GitHub `Link` header. */
export function nextPageFromLink(link: string | null): number | undefined {
  for (const match of (link ?? "").matchAll(/<([^>]*)>\s*;\s*rel="([^"]*)"/g)) {
    if (!match[2]?.split(/\s+/).includes("next")) continue;
    const page = Number(new URL(match[1] ?? "", "http://x").searchParams.get("page"));
    return Number.isInteger(page) && page > 0 ? page : undefined;
  }
  return undefined;
}

async function githubMessage(res: Response): Promise<string> {
  const body = (await res.json().catch(() => undefined)) as { message?: string; errors?: Array<{ message?: string }> } | undefined;
  const parts = [body?.message, ...(body?.errors ?? []).map((e) => e.message)].filter(Boolean);
  return parts.join("; ").slice(0, 300);
}

function rateLimited(res: Response): ApiError {
  const reset = Number(res.headers.get("x-ratelimit-reset"));
  const retryAfter = Number(res.headers.get("retry-after"));
  const at = reset > 0 ? new Date(reset * 1000) : retryAfter > 0 ? new Date(Date.now() + retryAfter * 1000) : undefined;
  return new ApiError(429, "github_rate_limited", at ? `GitHub rate limit; resets at ${at.toISOString()}` : "GitHub rate limit; try again later");
}

async function githubError(res: Response, what: string): Promise<ApiError> {
  if (res.status === 401) return new ApiError(401, "github_unauthorized", "GitHub token expired: sign in again");
  const limited = res.headers.get("x-ratelimit-remaining") === "0" || res.headers.has("retry-after");
  if (res.status === 429 || (res.status === 403 && limited)) return rateLimited(res);
  if (res.status === 404) return notFound(`${what}: not found on GitHub, or this account has no access`);
  const detail = await githubMessage(res);
  // GitHub's own refusals (no permission, PR already exists, no commits between…) are the caller's to fix, not faults.
  if (res.status === 403) return new ApiError(403, "github_forbidden", `GitHub refused ${what}: ${detail}`);
  if (res.status === 422) return new ApiError(422, "github_rejected", `GitHub refused ${what}: ${detail}`);
  return new ApiError(502, "github_error", `GitHub answered ${res.status} to ${what}${detail ? `: ${detail}` : ""}`);
}

async function send(url: string, init: RequestInit, what: string): Promise<Response> {
  const res = await fetch(url, init).catch((err: unknown) => {
    throw new ApiError(502, "github_unreachable", `GitHub is unreachable (${what}): ${err instanceof Error ? err.message : String(err)}`);
  });
  if (!res.ok) throw await githubError(res, what);
  return res;
}

export function githubClient(env: Env, token: string) {
  const api = githubApi(env);
  const call = (path: string, what: string, init: RequestInit = {}) =>
    send(`${api}${path}`, { ...init, headers: { ...HEADERS, authorization: `Bearer ${token}`, ...init.headers } }, what);
  const repoPath = (owner: string, name: string) => `/repos/${encodeURIComponent(owner)}/${encodeURIComponent(name)}`;

  const reposPage = async (page: number, perPage: number) => {
    const query = new URLSearchParams({ affiliation: "owner,collaborator,organization_member", sort: "pushed", per_page: String(perPage), page: String(page) });
    const res = await call(`/user/repos?${query}`, "listing repositories");
    return { items: ((await res.json()) as RawRepo[]).map(toSummary), nextPage: nextPageFromLink(res.headers.get("link")) };
  };

  return {
    async getUser(): Promise<GithubUser> {
      const user = (await (await call("/user", "reading the signed-in user")).json()) as { id: number; login: string; name?: string | null; avatar_url?: string | null };
      return { id: user.id, login: user.login, name: user.name ?? null, avatarUrl: user.avatar_url ?? null };
    },

    /** With `q`: scans up to 1000 repos (most recently pushed first) and pages over the matches. */
    async listRepos(opts: { q?: string; page?: number } = {}): Promise<RepoPage> {
      const page = opts.page ?? 1;
      const q = opts.q?.trim().toLowerCase();
      const found = q ? await scanPages((p) => reposPage(p, SCAN_PAGE_SIZE), (r) => r.fullName.toLowerCase().includes(q), page, PAGE_SIZE) : await reposPage(page, PAGE_SIZE);
      return { repos: found.items, nextPage: found.nextPage };
    },

    async getRepo(owner: string, name: string): Promise<RepoSummary> {
      return toSummary((await (await call(repoPath(owner, name), `repository ${owner}/${name}`)).json()) as RawRepo);
    },

    async listBranches(owner: string, name: string): Promise<Branch[]> {
      const branches: Branch[] = [];
      let page: number | undefined = 1;
      for (let n = 0; page !== undefined && n < BRANCH_MAX_PAGES; n++) {
        const res: Response = await call(`${repoPath(owner, name)}/branches?per_page=100&page=${page}`, `branches of ${owner}/${name}`);
        const raw = (await res.json()) as Array<{ name: string; commit: { sha: string } }>;
        branches.push(...raw.map((b) => ({ name: b.name, commit: b.commit.sha })));
        page = nextPageFromLink(res.headers.get("link"));
      }
      return branches;
    },

    /** Open issues, most recently updated first; pull requests (which GitHub lists as issues too) left out. With `q`: title or number. */
    async listIssues(owner: string, name: string, opts: { q?: string; page?: number } = {}): Promise<IssuePage> {
      const fetchPage = async (page: number, perPage: number) => {
        const query = new URLSearchParams({ state: "open", sort: "updated", direction: "desc", per_page: String(perPage), page: String(page) });
        const res = await call(`${repoPath(owner, name)}/issues?${query}`, `issues of ${owner}/${name}`);
        const raw = (await res.json()) as RawIssue[];
        return { items: raw.filter((i) => !i.pull_request).map(toIssue), nextPage: nextPageFromLink(res.headers.get("link")) };
      };
      const page = opts.page ?? 1;
      const q = opts.q?.trim().toLowerCase().replace(/^#(?=\d+$)/, "");
      const keep = (i: IssueSummary) => String(i.number) === q || i.title.toLowerCase().includes(q ?? "");
      const found = q ? await scanPages((p) => fetchPage(p, SCAN_PAGE_SIZE), keep, page, ISSUE_PAGE_SIZE) : await fetchPage(page, ISSUE_PAGE_SIZE);
      return { issues: found.items, nextPage: found.nextPage };
    },

    async createPull(owner: string, name: string, pull: PullInput): Promise<{ number: number; url: string }> {
      const res = await call(`${repoPath(owner, name)}/pulls`, `a pull request on ${owner}/${name}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(pull),
      });
      const created = (await res.json()) as { number: number; html_url: string };
      return { number: created.number, url: created.html_url };
    },
  };
}
export type GithubClient = ReturnType<typeof githubClient>;

/** Trades an OAuth `code` for a user token. GitHub answers 200 with `{error}` for a bad or reused code. */
export async function exchangeOauthCode(env: Env, code: string, redirectUri: string): Promise<string> {
  const form = new URLSearchParams({ client_id: env.GITHUB_CLIENT_ID ?? "", client_secret: env.GITHUB_CLIENT_SECRET ?? "", code, redirect_uri: redirectUri });
  const res = await send(`${githubOauth(env)}/login/oauth/access_token`, {
    method: "POST",
    headers: { accept: "application/json", "content-type": "application/x-www-form-urlencoded", "user-agent": "ocweb" },
    body: form.toString(),
  }, "the sign-in code exchange");
  const body = (await res.json()) as { access_token?: string; error?: string; error_description?: string };
  if (body.access_token) return body.access_token;
  throw new ApiError(400, "github_oauth_failed", `GitHub sign-in failed (${body.error_description ?? body.error ?? "no token"}): start again`);
}

/** The signed-in user's GitHub token, decrypted; undefined for users without one (dev sign-in). */
export async function githubTokenFor(c: Context<AppEnv>): Promise<string | undefined> {
  const [row] = await c.get("db").select({ enc: users.githubTokenEnc }).from(users).where(eq(users.id, c.get("user").id)).limit(1);
  if (!row?.enc) return undefined;
  return decryptSecret(c.env.SESSION_SECRET, row.enc).catch(() => {
    throw new ApiError(401, "github_unauthorized", "the stored GitHub token cannot be read (SESSION_SECRET changed?): sign in again");
  });
}
