import { desc, eq } from "drizzle-orm";
import { type Context, Hono } from "hono";
import { z } from "zod";
import { ApiError } from "../../lib/api-error.ts";
import { validate } from "../../lib/validate.ts";
import { ownerSchema, repoNameSchema } from "../../lib/names.ts";
import type { AppDeps, AppEnv } from "../context.ts";
import type { Db } from "../db/client.ts";
import { recentRepos } from "../db/schema.ts";
import type { Env } from "../env.ts";
import { githubClient, githubTokenFor, type IssuePage, type RepoSummary } from "../github/client.ts";

/** Injected by the Node dev server: `owner/name` for every `owner/name.git` two levels under a file:// base. */
export type LocalRepoLister = NonNullable<AppDeps["listLocalRepos"]>;
/** Injected by the Node dev server: branch names of one local repo and its HEAD branch. */
export type LocalBranchLister = NonNullable<AppDeps["listLocalBranches"]>;

const PAGE_SIZE = 50;
const RECENT_LIMIT = 5;

const listQuery = z.object({
  q: z.string().max(100).optional(),
  page: z.coerce.number().int().min(1).max(100).default(1),
});
const repoParam = z.object({ owner: ownerSchema, name: repoNameSchema });
/** `note` says why the list is empty when GitHub was not asked. */
type IssueList = IssuePage & { note?: string };

export async function touchRecentRepo(db: Db, userId: string, repo: string): Promise<void> {
  const now = new Date();
  await db
    .insert(recentRepos)
    .values({ userId, repo, usedAt: now })
    .onConflictDoUpdate({ target: [recentRepos.userId, recentRepos.repo], set: { usedAt: now } });
}

async function recentNames(db: Db, userId: string): Promise<string[]> {
  const rows = await db
    .select({ repo: recentRepos.repo })
    .from(recentRepos)
    .where(eq(recentRepos.userId, userId))
    .orderBy(desc(recentRepos.usedAt))
    .limit(RECENT_LIMIT);
  return rows.map((r) => r.repo);
}

/** The file:// base to list from, when the dev server clones locally and GitHub cannot (or need not) be asked. */
function localBase(env: Env, token: string | undefined): string | undefined {
  if (!env.GIT_BASE_URL?.startsWith("file://")) return undefined;
  return !token || !env.GITHUB_API_URL ? env.GIT_BASE_URL : undefined;
}

const localSummary = (fullName: string): RepoSummary => ({ fullName, private: false, defaultBranch: null, pushedAt: null });
const key = (name: string) => name.toLowerCase();
const splitRepo = (repo: string) => repo.split("/") as [string, string];

async function listLocal(c: Context<AppEnv>, base: string, recent: string[], needle: string | undefined, page: number) {
  const lister = c.get("deps").listLocalRepos;
  const names = (lister ? await lister(base) : []).filter((n) => !needle || key(n).includes(needle));
  const byKey = new Map(names.map((n) => [key(n), n]));
  const head = recent.map((r) => byKey.get(key(r))).filter((n) => n !== undefined);
  const headKeys = new Set(head.map(key));
  const rest = names.filter((n) => !headKeys.has(key(n))).sort((a, b) => a.localeCompare(b));
  const start = (page - 1) * PAGE_SIZE;
  const repos = [...(page === 1 ? head : []), ...rest.slice(start, start + PAGE_SIZE)].map(localSummary);
  return { repos, nextPage: rest.length > start + PAGE_SIZE ? page + 1 : undefined };
}

export const repoRoutes = new Hono<AppEnv>()
  .get("/", validate("query", listQuery), async (c) => {
    const { q, page } = c.req.valid("query");
    const needle = q?.trim().toLowerCase() || undefined;
    const db = c.get("db");
    const recent = (await recentNames(db, c.get("user").id)).filter((r) => !needle || key(r).includes(needle));
    const token = await githubTokenFor(c);
    const base = localBase(c.env, token);
    if (base !== undefined) return c.json(await listLocal(c, base, recent, needle, page), 200);
    if (!token) return c.json({ repos: page === 1 ? recent.map(localSummary) : [], nextPage: undefined }, 200);

    const gh = githubClient(c.env, token);
    const listed = await gh.listRepos({ q: needle, page });
    const recentKeys = new Set(recent.map(key));
    const rest = listed.repos.filter((r) => !recentKeys.has(key(r.fullName)));
    if (page !== 1) return c.json({ repos: rest, nextPage: listed.nextPage }, 200);
    const head = await Promise.all(
      recent.map((name) => {
        const known = listed.repos.find((r) => key(r.fullName) === key(name));
        if (known) return known;
        // A recent repo the user can no longer see is dropped, not an error.
        return gh.getRepo(...splitRepo(name)).catch((err: unknown) => {
          if (err instanceof ApiError && err.status === 404) return undefined;
          throw err;
        });
      }),
    );
    return c.json({ repos: [...head.filter((r) => r !== undefined), ...rest], nextPage: listed.nextPage }, 200);
  })
  .get("/:owner/:name/branches", validate("param", repoParam), async (c) => {
    const { owner, name } = c.req.valid("param");
    const token = await githubTokenFor(c);
    const base = localBase(c.env, token);
    if (base !== undefined || !token) {
      const lister = c.get("deps").listLocalBranches;
      const local = base !== undefined && lister ? await lister(base, `${owner}/${name}`) : { branches: [], defaultBranch: null };
      return c.json({ branches: local.branches.map((b) => ({ name: b })), defaultBranch: local.defaultBranch }, 200);
    }
    const gh = githubClient(c.env, token);
    const [branches, repo] = await Promise.all([gh.listBranches(owner, name), gh.getRepo(owner, name)]);
    const ordered = [...branches.filter((b) => b.name === repo.defaultBranch), ...branches.filter((b) => b.name !== repo.defaultBranch)];
    return c.json({ branches: ordered.map((b) => ({ name: b.name })), defaultBranch: repo.defaultBranch }, 200);
  })
  .get("/:owner/:name/issues", validate("param", repoParam), validate("query", listQuery), async (c) => {
    const { owner, name } = c.req.valid("param");
    const { q, page } = c.req.valid("query");
    const token = await githubTokenFor(c);
    const note = localBase(c.env, token) !== undefined
      ? "this repo is a local git repo (file://), not a GitHub one: it has no issues to pick"
      : token ? undefined : "sign in with GitHub to pick one of the repo's issues";
    const body: IssueList = note || !token ? { issues: [], note } : await githubClient(c.env, token).listIssues(owner, name, { q, page });
    return c.json(body, 200);
  });
