import { and, eq, ne } from "drizzle-orm";
import { Hono } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { z } from "zod";
import { ApiError, badRequest, conflict, forbidden } from "../../lib/api-error.ts";
import { validate } from "../../lib/validate.ts";
import type { AppEnv } from "../context.ts";
import type { Db } from "../db/client.ts";
import { users } from "../db/schema.ts";
import { allowedLogins, githubOauth } from "../env.ts";
import { exchangeOauthCode, githubClient } from "../github/client.ts";
import { encryptSecret, randomToken } from "./crypto.ts";
import { clearedSessionCookie, createSession, isHttps, revokeSession, SESSION_COOKIE, sessionCookie } from "./session.ts";

const STATE_COOKIE = "ocweb_oauth_state";
const STATE_PATH = "/auth/github";

const callbackQuery = z.object({
  code: z.string().max(512).optional(),
  state: z.string().max(512).optional(),
  error: z.string().max(200).optional(),
  error_description: z.string().max(500).optional(),
});
const devQuery = z.object({ login: z.string().regex(/^[A-Za-z0-9_.-]{1,39}$/, "login must be 1-39 of A-Z a-z 0-9 _ . -").default("dev") });

/** 127.0.0.0/8, ::1 and IPv4-mapped 127.x. */
export function isLoopback(ip: string | undefined): boolean {
  if (!ip) return false;
  const v4 = ip.toLowerCase().replace(/^::ffff:/, "");
  if (/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4)) return true;
  return /^(0{0,4}:){2,7}0{0,3}1$/.test(ip) || ip === "::1";
}

const isLoopbackHost = (hostname: string) => hostname === "localhost" || hostname === "[::1]" || isLoopback(hostname);

type UserRow = { id: string; login: string; name: string | null; avatarUrl: string | null; githubTokenEnc: string | null };

/** Insert or update by id. A GitHub login moves between accounts on rename, so `takeLogin` frees it from a stale row. */
async function saveUser(db: Db, user: UserRow, opts: { takeLogin: boolean }) {
  const [holder] = await db.select({ id: users.id }).from(users).where(and(eq(users.login, user.login), ne(users.id, user.id))).limit(1);
  if (holder && !opts.takeLogin) throw conflict(`login ${user.login} belongs to a GitHub account: pick another dev login`);
  if (holder) await db.update(users).set({ login: `${user.login}~${holder.id}` }).where(eq(users.id, holder.id));
  const now = new Date();
  await db
    .insert(users)
    .values({ ...user, createdAt: now, updatedAt: now })
    .onConflictDoUpdate({ target: users.id, set: { login: user.login, name: user.name, avatarUrl: user.avatarUrl, githubTokenEnc: user.githubTokenEnc, updatedAt: now } });
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

function notAllowedPage(login: string) {
  const text = `${escapeHtml(login)} is not allowed on this ocweb`;
  return `<!doctype html><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>ocweb</title>
<body style="font-family:system-ui;max-width:32rem;margin:4rem auto;padding:0 1rem"><h1>${text}</h1>
<p>Ask the owner to add your GitHub login to <code>ALLOWED_GITHUB_USERS</code>, or <a href="/auth/github">sign in with another account</a>.</p></body>`;
}

export const authRoutes = new Hono<AppEnv>()
  .get("/github", (c) => {
    if (!c.env.GITHUB_CLIENT_ID || !c.env.GITHUB_CLIENT_SECRET) {
      throw new ApiError(503, "github_not_configured", "GitHub sign-in is not configured: set GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET");
    }
    const state = randomToken(24);
    setCookie(c, STATE_COOKIE, state, { httpOnly: true, secure: isHttps(c.req.url), sameSite: "Lax", path: STATE_PATH, maxAge: 600 });
    const query = new URLSearchParams({
      client_id: c.env.GITHUB_CLIENT_ID,
      redirect_uri: `${new URL(c.req.url).origin}/auth/github/callback`,
      scope: "repo read:org",
      state,
    });
    return c.redirect(`${githubOauth(c.env)}/login/oauth/authorize?${query}`, 302);
  })
  .get("/github/callback", validate("query", callbackQuery), async (c) => {
    const { code, state, error, error_description } = c.req.valid("query");
    const expected = getCookie(c, STATE_COOKIE);
    deleteCookie(c, STATE_COOKIE, { path: STATE_PATH, secure: isHttps(c.req.url), httpOnly: true, sameSite: "Lax" });
    if (!state || !expected || state !== expected) throw new ApiError(400, "bad_state", "sign-in state did not match: start again from the sign-in page");
    if (error) throw new ApiError(400, "github_denied", `GitHub sign-in was not completed: ${error_description ?? error}`);
    if (!code) throw badRequest("GitHub sent no code: start again from the sign-in page");
    if (!c.env.GITHUB_CLIENT_ID || !c.env.GITHUB_CLIENT_SECRET) throw new ApiError(503, "github_not_configured", "GitHub sign-in is not configured");

    const token = await exchangeOauthCode(c.env, code, `${new URL(c.req.url).origin}/auth/github/callback`);
    const gh = await githubClient(c.env, token).getUser();
    if (!allowedLogins(c.env).has(gh.login.toLowerCase())) {
      if (c.req.header("accept")?.includes("text/html")) return c.html(notAllowedPage(gh.login), 403);
      throw new ApiError(403, "not_allowed", `${gh.login} is not allowed on this ocweb`);
    }
    const db = c.get("db");
    const githubTokenEnc = await encryptSecret(c.env.SESSION_SECRET, token);
    await saveUser(db, { id: String(gh.id), login: gh.login, name: gh.name, avatarUrl: gh.avatarUrl, githubTokenEnc }, { takeLogin: true });
    c.header("set-cookie", sessionCookie(await createSession(db, String(gh.id)), { secure: isHttps(c.req.url) }), { append: true });
    return c.redirect("/", 302);
  })
  .post("/logout", async (c) => {
    const value = getCookie(c, SESSION_COOKIE);
    if (value && value.length <= 128) await revokeSession(c.get("db"), value);
    c.header("set-cookie", clearedSessionCookie({ secure: isHttps(c.req.url) }), { append: true });
    return c.body(null, 204);
  })
  .get("/dev", async (c, next) => (c.env.DEV_LOGIN === "1" ? next() : c.notFound()), validate("query", devQuery), async (c) => {
    // Local workerd passes a client-sent cf-connecting-ip through, so the URL host must be loopback as well.
    if (!isLoopback(c.get("deps").clientIp(c)) || !isLoopbackHost(new URL(c.req.url).hostname)) {
      throw forbidden("dev sign-in is only allowed from loopback");
    }
    const { login } = c.req.valid("query");
    const db = c.get("db");
    const id = `dev:${login}`;
    await saveUser(db, { id, login, name: login, avatarUrl: null, githubTokenEnc: null }, { takeLogin: false });
    c.header("set-cookie", sessionCookie(await createSession(db, id), { secure: isHttps(c.req.url) }), { append: true });
    return c.redirect("/", 302);
  });
