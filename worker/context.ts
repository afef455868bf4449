import type { Context } from "hono";
import type { BoxScope } from "./boxes/resolve.ts";
import type { Db } from "./db/client.ts";
import type { Env } from "./env.ts";

export type SessionUser = { id: string; login: string; name: string | null; avatarUrl: string | null };

/** What differs between workerd and the Node dev server; injected into createApp. */
export type AppDeps = {
  db: (env: Env) => Db;
  /** The caller's IP as the runtime sees it (for the loopback-only dev sign-in). */
  clientIp: (c: Context) => string | undefined;
  /** How the worker reaches its boxes; tests may pass a box app's own `request`. */
  boxFetch?: typeof fetch;
  /** Node only: repos and branches under a file:// GIT_BASE_URL, for the picker when there is no GitHub. */
  listLocalRepos?: (gitBaseUrl: string) => Promise<string[]>;
  listLocalBranches?: (gitBaseUrl: string, repo: string) => Promise<{ branches: string[]; defaultBranch: string | null }>;
};

export type AppEnv = {
  Bindings: Env;
  Variables: { db: Db; deps: AppDeps; user: SessionUser };
};

/** What the box resolvers (worker/boxes/resolve.ts) need from a request. */
export const boxScope = (c: Context<AppEnv>): BoxScope => ({ db: c.get("db"), env: c.env, fetch: c.get("deps").boxFetch });
