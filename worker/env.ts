/** The worker's bindings (vars and secrets; see wrangler.toml). Strings, as Workers pass them. */
export type Env = {
  DATABASE_URL: string;
  DATABASE_AUTH_TOKEN?: string;
  BOX_URL?: string;
  BOX_TOKEN?: string;
  SESSION_SECRET: string;
  ALLOWED_GITHUB_USERS?: string; // comma-separated logins
  GITHUB_CLIENT_ID?: string;
  GITHUB_CLIENT_SECRET?: string;
  GITHUB_API_URL?: string; // default https://api.github.com
  GITHUB_OAUTH_URL?: string; // default https://github.com
  DEV_LOGIN?: string; // "1" enables /auth/dev from loopback only
  /** Set by the Node dev server: the git base the box clones from, when it is not GitHub. */
  GIT_BASE_URL?: string;
  ASSETS?: { fetch: (req: Request) => Promise<Response> };
};

export const githubApi = (env: Env) => (env.GITHUB_API_URL ?? "https://api.github.com").replace(/\/+$/, "");
export const githubOauth = (env: Env) => (env.GITHUB_OAUTH_URL ?? "https://github.com").replace(/\/+$/, "");
export const allowedLogins = (env: Env) =>
  new Set((env.ALLOWED_GITHUB_USERS ?? "").split(",").map((s) => s.trim().toLowerCase()).filter(Boolean));
