import { and, eq, gt, isNull } from "drizzle-orm";
import { generateCookie } from "hono/cookie";
import type { SessionUser } from "../context.ts";
import type { Db } from "../db/client.ts";
import { sessions, users } from "../db/schema.ts";
import { sessionCache } from "../hot-path-cache.ts";
import { randomToken, sha256Hex } from "./crypto.ts";

export const SESSION_COOKIE = "ocweb_session";
export const SESSION_TTL_SECONDS = 30 * 24 * 60 * 60;

/** Inserts a session row keyed by SHA-256 of a fresh random value; returns the value for the cookie. */
export async function createSession(db: Db, userId: string): Promise<string> {
  const value = randomToken(32);
  const now = Date.now();
  await db.insert(sessions).values({
    id: await sha256Hex(value),
    userId,
    createdAt: new Date(now),
    expiresAt: new Date(now + SESSION_TTL_SECONDS * 1000),
  });
  return value;
}

export async function revokeSession(db: Db, cookieValue: string): Promise<void> {
  const id = await sha256Hex(cookieValue);
  sessionCache.delete(id);
  await db.update(sessions).set({ revokedAt: new Date() }).where(and(eq(sessions.id, id), isNull(sessions.revokedAt)));
}

/**
 * The user behind a cookie value, if its session exists, is not revoked and has not expired.
 * `cached`: may answer from this isolate's short-lived cache (the opencode pass-through only).
 */
export async function sessionUser(db: Db, cookieValue: string, opts: { cached?: boolean } = {}): Promise<SessionUser | undefined> {
  const id = await sha256Hex(cookieValue);
  const hit = opts.cached ? sessionCache.get(id) : undefined;
  if (hit) return hit;
  const [row] = await db
    .select({ id: users.id, login: users.login, name: users.name, avatarUrl: users.avatarUrl })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(and(eq(sessions.id, id), isNull(sessions.revokedAt), gt(sessions.expiresAt, new Date())))
    .limit(1);
  if (row) sessionCache.set(id, row);
  return row;
}

/** Secure only over https: browsers drop Secure cookies set over plain http (except on localhost). */
export const isHttps = (requestUrl: string) => new URL(requestUrl).protocol === "https:";

export const sessionCookie = (value: string, opts: { secure: boolean }) =>
  generateCookie(SESSION_COOKIE, value, { httpOnly: true, secure: opts.secure, sameSite: "Lax", path: "/", maxAge: SESSION_TTL_SECONDS });

export const clearedSessionCookie = (opts: { secure: boolean }) =>
  generateCookie(SESSION_COOKIE, "", { httpOnly: true, secure: opts.secure, sameSite: "Lax", path: "/", maxAge: 0 });
