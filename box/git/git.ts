import { execa } from "execa";
import { simpleGit, type SimpleGit, type SimpleGitProgressEvent } from "simple-git";

export type GitAuth = { githubToken?: string; baseUrl: string };

export const ocwebIdentity = { name: "ocweb", email: "ocweb@users.noreply.local" } as const;

export const identityEnv = {
  GIT_AUTHOR_NAME: ocwebIdentity.name,
  GIT_AUTHOR_EMAIL: ocwebIdentity.email,
  GIT_COMMITTER_NAME: ocwebIdentity.name,
  GIT_COMMITTER_EMAIL: ocwebIdentity.email,
};

// Only these reach git; model keys, BOX_TOKEN and GITHUB_TOKEN itself never do.
const passthrough = [
  "PATH", "HOME", "USER", "LOGNAME", "TMPDIR", "TZ",
  "SSL_CERT_FILE", "SSL_CERT_DIR", "CURL_CA_BUNDLE", "GIT_SSL_CAINFO", "GIT_SSL_CAPATH",
  "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "no_proxy", "all_proxy",
];

// simple-git 4 rejects any GIT_* variable passed through .env() unless it is listed here.
const allowEnvironment = [
  "GIT_TERMINAL_PROMPT", "GIT_CONFIG_COUNT", "GIT_CONFIG_KEY_0", "GIT_CONFIG_VALUE_0",
  "GIT_SSL_CAINFO", "GIT_SSL_CAPATH", "GIT_INDEX_FILE", ...Object.keys(identityEnv),
];

export type GitOptions = {
  auth?: GitAuth;
  env?: Record<string, string>;
};

export type Git = { raw(args: string[]): Promise<string> };

/**
 * git in `dir`: no terminal prompts, only the listed environment, the GitHub token as an env-only
 * header. Run with execa, not simple-git: simple-git waits 50 ms after any command that printed
 * nothing, and most of the box's git calls print nothing (--quiet checkouts, `add --all`, probes).
 */
export function gitAt(dir: string, opts: GitOptions = {}): Git {
  const env = { ...baseEnv(), ...authEnv(opts.auth), ...opts.env };
  return {
    async raw(args) {
      const run = await execa("git", args, { cwd: dir, env, extendEnv: false, stdin: "ignore", stripFinalNewline: false, reject: false });
      if (run.failed) throw new Error((run.stderr || run.stdout || run.shortMessage || "git failed").trim());
      return run.stdout;
    },
  };
}

/** simple-git for fetches, for its parsed progress events (a clone's progress is streamed to the client). */
export function fetchingGit(dir: string, opts: { auth?: GitAuth; progress: (event: SimpleGitProgressEvent) => void }): SimpleGit {
  const git = simpleGit({
    baseDir: dir,
    progress: opts.progress,
    allowEnvironment,
    // GIT_CONFIG_COUNT is how the token header stays out of argv and off disk.
    unsafe: { allowUnsafeConfigEnvCount: true },
  });
  return git.env({ ...baseEnv(), ...authEnv(opts.auth) });
}

function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of passthrough) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  // Stable English messages: errors are classified by their text.
  return { ...env, LC_ALL: "C", GIT_TERMINAL_PROMPT: "0" };
}

export const isHttpUrl = (url: string) => /^https?:\/\//i.test(url);

function authHeader(token: string) {
  return `Authorization: Basic ${Buffer.from(`x-access-token:${token}`).toString("base64")}`;
}

function authEnv(auth: GitAuth | undefined): Record<string, string> {
  if (!auth?.githubToken || !isHttpUrl(auth.baseUrl)) return {};
  // Scoped to the base URL so the header is never sent to any other host.
  const scope = `${auth.baseUrl.replace(/\/+$/, "")}/`;
  return {
    GIT_CONFIG_COUNT: "1",
    GIT_CONFIG_KEY_0: `http.${scope}.extraHeader`,
    GIT_CONFIG_VALUE_0: authHeader(auth.githubToken),
  };
}

/** Removes the token in every form git could echo it (raw, base64 header). */
export function redact(text: string, auth?: GitAuth): string {
  const token = auth?.githubToken;
  if (!token) return text;
  const secrets = [token, Buffer.from(`x-access-token:${token}`).toString("base64")];
  return secrets.reduce((out, secret) => out.split(secret).join("***"), text);
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Runs git and returns null instead of throwing (for probes like rev-parse --verify). */
export async function tryRaw(git: Git, args: string[]): Promise<string | null> {
  try {
    return await git.raw(args);
  } catch {
    return null;
  }
}

export const isSha = (s: string) => /^[0-9a-f]{40}([0-9a-f]{24})?$/.test(s);
