import { eq } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { decryptSecret, sha256Hex } from "../../worker/auth/crypto.ts";
import { sessions, users } from "../../worker/db/schema.ts";
import { githubSignIn, startGithubStandin, STANDIN_CLIENT_ID, STANDIN_CLIENT_SECRET, type GithubStandin } from "../helpers/github-standin.ts";
import { startTestWorker, type TestWorker } from "../helpers/worker-harness.ts";

const SECRET = "auth-test-session-secret-0123456789";
let gh: GithubStandin;
let worker: TestWorker;

const setCookies = (res: Response) => res.headers.getSetCookie();
const cookieLine = (res: Response, name: string) => setCookies(res).find((l) => l.startsWith(`${name}=`));
const errorOf = async (res: Response) => ((await res.json()) as { error: { code: string; message: string } }).error;
async function signIn(login: string): Promise<string> {
  const res = await githubSignIn(worker, login);
  expect(res.status).toBe(302);
  return worker.jar.get("ocweb_session") ?? "";
}
const me = (cookie?: string) => worker.fetch("/api/me", cookie === undefined ? {} : { headers: { cookie: `ocweb_session=${cookie}` } });

beforeAll(async () => {
  gh = await startGithubStandin({
    users: [
      { id: 501, login: "Alice", name: "Alice A." },
      { id: 502, login: "bob" },
      { id: 503, login: "carla" },
      { id: 666, login: "mallory", name: "Mallory" },
    ],
  });
  worker = await startTestWorker({
    bindings: {
      SESSION_SECRET: SECRET,
      GITHUB_CLIENT_ID: STANDIN_CLIENT_ID,
      GITHUB_CLIENT_SECRET: STANDIN_CLIENT_SECRET,
      GITHUB_API_URL: gh.url,
      GITHUB_OAUTH_URL: gh.url,
      ALLOWED_GITHUB_USERS: "alice, BOB,carla",
      DEV_LOGIN: "1",
    },
  });
});
afterAll(async () => {
  await worker?.dispose();
  await gh?.close();
});
beforeEach(() => worker.jar.clear());

describe("GitHub OAuth", () => {
  it("redirects to GitHub's authorize page with a state cookie", async () => {
    const res = await worker.fetch("/auth/github");
    expect(res.status).toBe(302);
    const to = new URL(res.headers.get("location") ?? "");
    expect(to.origin + to.pathname).toBe(`${gh.url}/login/oauth/authorize`);
    expect(to.searchParams.get("client_id")).toBe(STANDIN_CLIENT_ID);
    expect(to.searchParams.get("redirect_uri")).toBe(`${worker.url}/auth/github/callback`);
    expect(to.searchParams.get("scope")).toBe("repo read:org");
    const state = to.searchParams.get("state");
    expect(state).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    const line = cookieLine(res, "ocweb_oauth_state") ?? "";
    expect(line).toContain(`ocweb_oauth_state=${state}`);
    expect(line).toMatch(/HttpOnly/);
    expect(line).toMatch(/SameSite=Lax/);
    expect(line).toMatch(/Max-Age=600/);
  });

  it("signs an allowed user in: session cookie, /api/me, encrypted token", async () => {
    const res = await githubSignIn(worker, "Alice");
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("/");
    const line = cookieLine(res, "ocweb_session") ?? "";
    expect(line).toMatch(/HttpOnly/);
    expect(line).toMatch(/SameSite=Lax/);
    expect(line).toMatch(/Path=\//);
    expect(line).toMatch(/Max-Age=2592000/);
    expect(line).not.toMatch(/Secure/); // plain http on loopback; the https case is a unit test
    expect(cookieLine(res, "ocweb_oauth_state")).toMatch(/Max-Age=0/);

    const meRes = await worker.fetch("/api/me");
    expect(meRes.status).toBe(200);
    expect(await meRes.json()).toEqual({ user: { id: "501", login: "Alice", name: "Alice A.", avatarUrl: "https://avatars.example/501" } });

    const cookie = worker.jar.get("ocweb_session") ?? "";
    const rows = await worker.db.select().from(sessions).where(eq(sessions.userId, "501"));
    expect(rows.map((r) => r.id)).toContain(await sha256Hex(cookie));
    expect(rows.map((r) => r.id)).not.toContain(cookie);

    const [user] = await worker.db.select().from(users).where(eq(users.id, "501"));
    const issued = [...gh.tokens].filter(([, login]) => login === "Alice").map(([token]) => token);
    expect(user?.githubTokenEnc).toMatch(/^v1\./);
    for (const token of issued) expect(user?.githubTokenEnc).not.toContain(token);
    expect(issued).toContain(await decryptSecret(SECRET, user?.githubTokenEnc ?? ""));
  });

  it("matches the allowlist case-insensitively and updates the user on the next sign-in", async () => {
    expect((await githubSignIn(worker, "bob")).status).toBe(302);
    expect((await (await worker.fetch("/api/me")).json()) as unknown).toEqual({ user: { id: "502", login: "bob", avatarUrl: "https://avatars.example/502" } });
    worker.jar.clear();
    expect((await githubSignIn(worker, "bob")).status).toBe(302);
    expect(await worker.db.select().from(users).where(eq(users.login, "bob"))).toHaveLength(1);
  });

  it("takes over a login that a renamed account left behind", async () => {
    const now = new Date();
    await worker.db.insert(users).values({ id: "400", login: "carla", createdAt: now, updatedAt: now });
    await signIn("carla");
    const rows = await worker.db.select({ id: users.id, login: users.login }).from(users).where(eq(users.id, "400"));
    expect(rows).toEqual([{ id: "400", login: "carla~400" }]);
    expect(await (await worker.fetch("/api/me")).json()).toMatchObject({ user: { id: "503", login: "carla" } });
  });

  it("refuses a login that is not on the allowlist: 403, no user, no session", async () => {
    const res = await githubSignIn(worker, "mallory");
    expect(res.status).toBe(403);
    expect(await errorOf(res)).toEqual({ code: "not_allowed", message: "mallory is not allowed on this ocweb" });
    expect(cookieLine(res, "ocweb_session")).toBeUndefined();
    expect(await worker.db.select().from(users).where(eq(users.id, "666"))).toHaveLength(0);
    expect((await worker.fetch("/api/me")).status).toBe(401);
  });

  it("shows browsers a small page for a refused login", async () => {
    const start = await worker.fetch("/auth/github");
    const approved = await fetch(`${start.headers.get("location")}&login=mallory`, { redirect: "manual" });
    const callback = new URL(approved.headers.get("location") ?? "");
    const res = await worker.fetch(callback.pathname + callback.search, { headers: { accept: "text/html" } });
    expect(res.status).toBe(403);
    expect(res.headers.get("content-type")).toMatch(/text\/html/);
    expect(await res.text()).toContain("mallory is not allowed on this ocweb");
  });

  it("answers 400 for a wrong or missing state, and spends no code", async () => {
    const start = await worker.fetch("/auth/github");
    const approved = await fetch(new URL(start.headers.get("location") ?? ""), { redirect: "manual" });
    const callback = new URL(approved.headers.get("location") ?? "");
    const code = callback.searchParams.get("code") ?? "";

    const wrong = await worker.fetch(`/auth/github/callback?code=${code}&state=not-the-state`);
    expect(wrong.status).toBe(400);
    expect((await errorOf(wrong)).code).toBe("bad_state");
    worker.jar.clear();
    const noCookie = await worker.fetch(callback.pathname + callback.search);
    expect(noCookie.status).toBe(400);
    const noState = await worker.fetch(`/auth/github/callback?code=${code}`);
    expect(noState.status).toBe(400);
    expect(worker.jar.get("ocweb_session")).toBeUndefined();
  });

  it("answers 400 when GitHub refuses the code", async () => {
    const start = await worker.fetch("/auth/github");
    const state = new URL(start.headers.get("location") ?? "").searchParams.get("state");
    const res = await worker.fetch(`/auth/github/callback?code=made-up&state=${state}`);
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toMatchObject({ code: "github_oauth_failed", message: expect.stringContaining("incorrect or expired") });
  });
});

describe("sessions", () => {
  it("401 without a cookie and with a forged one", async () => {
    const none = await me();
    expect(none.status).toBe(401);
    expect((await errorOf(none)).code).toBe("unauthorized");
    expect((await me("forged-cookie-value")).status).toBe(401);
    expect((await me("x".repeat(500))).status).toBe(401);
  });

  it("logout revokes the session row and clears the cookie; the old cookie gets 401", async () => {
    const cookie = await signIn("alice");
    expect((await me(cookie)).status).toBe(200);
    const res = await worker.fetch("/auth/logout", { method: "POST" });
    expect(res.status).toBe(204);
    expect(cookieLine(res, "ocweb_session")).toMatch(/Max-Age=0/);
    expect(worker.jar.get("ocweb_session")).toBeUndefined();
    const [row] = await worker.db.select().from(sessions).where(eq(sessions.id, await sha256Hex(cookie)));
    expect(row?.revokedAt).toBeInstanceOf(Date);
    expect((await me(cookie)).status).toBe(401);
  });

  it("an expired session gets 401", async () => {
    const cookie = await signIn("alice");
    expect((await me(cookie)).status).toBe(200);
    await worker.db.update(sessions).set({ expiresAt: new Date(Date.now() - 1000) }).where(eq(sessions.id, await sha256Hex(cookie)));
    expect((await me(cookie)).status).toBe(401);
  });
});

describe("same-origin guard", () => {
  it("refuses a state-changing request from another origin or without Origin, and keeps the session", async () => {
    const cookie = await signIn("alice");
    const foreign = await worker.fetch("/auth/logout", { method: "POST", headers: { origin: "https://evil.example" } });
    expect(foreign.status).toBe(403);
    expect(await errorOf(foreign)).toEqual({ code: "forbidden", message: "cross-site request refused" });
    const bare = await fetch(`${worker.url}/auth/logout`, { method: "POST", headers: { cookie: `ocweb_session=${cookie}` } });
    expect(bare.status).toBe(403);
    const api = await worker.fetch("/api/chats", { method: "POST", headers: { origin: "http://127.0.0.1:1", "content-type": "application/json" }, body: "{}" });
    expect(api.status).toBe(403);
    expect((await me(cookie)).status).toBe(200);
  });
});

describe("GET /auth/dev", () => {
  it("signs a loopback caller in as dev:<login> without a GitHub token", async () => {
    const res = await worker.fetch("/auth/dev?login=carol");
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("/");
    expect(cookieLine(res, "ocweb_session")).toMatch(/HttpOnly/);
    expect(await (await worker.fetch("/api/me")).json()).toEqual({ user: { id: "dev:carol", login: "carol", name: "carol" } });
    const [row] = await worker.db.select().from(users).where(eq(users.id, "dev:carol"));
    expect(row?.githubTokenEnc).toBeNull();
  });

  it("defaults the login to dev, refuses a bad login and a login held by a GitHub account", async () => {
    expect((await worker.fetch("/auth/dev")).status).toBe(302);
    expect(((await (await worker.fetch("/api/me")).json()) as { user: { id: string } }).user.id).toBe("dev:dev");
    expect((await worker.fetch("/auth/dev?login=-%20x")).status).toBe(400);
    await signIn("bob");
    const taken = await worker.fetch("/auth/dev?login=bob");
    expect(taken.status).toBe(409);
  });

  it("refuses a caller whose address is not loopback", async () => {
    // Miniflare passes a client-sent cf-connecting-ip through; on Cloudflare the edge sets it.
    const res = await worker.fetch("/auth/dev", { headers: { "cf-connecting-ip": "203.0.113.9" } });
    expect(res.status).toBe(403);
    expect(worker.jar.get("ocweb_session")).toBeUndefined();
  });
});

describe("a worker without DEV_LOGIN or GitHub credentials", () => {
  let bare: TestWorker;
  beforeAll(async () => {
    bare = await startTestWorker({});
  });
  afterAll(async () => {
    await bare?.dispose();
  });

  it("has no /auth/dev", async () => {
    const res = await bare.fetch("/auth/dev?login=x");
    expect(res.status).toBe(404);
    expect(bare.jar.get("ocweb_session")).toBeUndefined();
  });

  it("answers 503 with a clear message for GitHub sign-in", async () => {
    const res = await bare.fetch("/auth/github");
    expect(res.status).toBe(503);
    expect(await errorOf(res)).toMatchObject({ code: "github_not_configured", message: expect.stringContaining("GITHUB_CLIENT_ID") });
  });
});
