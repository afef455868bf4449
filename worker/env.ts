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
  /**
   * Web Push (VAPID, RFC 8292). VAPID_PRIVATE_KEY is the P-256 key pair as a JWK JSON string
   * ({"kty":"EC","crv":"P-256","x","y","d"}, what `npm run secrets:generate` prints; scripts/dev.ts
   * makes one under .data/). VAPID_PUBLIC_KEY, when set, must be the same key's public point
   * (base64url, uncompressed); it is derived from the JWK otherwise. VAPID_SUBJECT: a mailto: or
   * https: contact for the push services (default mailto:ocweb@example.com; Apple refuses @localhost).
   */
  VAPID_PRIVATE_KEY?: string;
  VAPID_PUBLIC_KEY?: string;
  VAPID_SUBJECT?: string;
  ASSETS?: { fetch: (req: Request) => Promise<Response> };
};

export const githubApi = (env: Env) => (env.GITHUB_API_URL ?? "https://api.github.com").replace(/\/+$/, "");
export const githubOauth = (env: Env) => (env.GITHUB_OAUTH_URL ?? "https://github.com").replace(/\/+$/, "");
export const allowedLogins = (env: Env) =>
  new Set((env.ALLOWED_GITHUB_USERS ?? "").split(",").map((s) => s.trim().toLowerCase()).filter(Boolean));
