import { existsSync } from "node:fs";
import { readdir } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { serve } from "@hono/node-server";
import { getConnInfo } from "@hono/node-server/conninfo";
import { serveStatic } from "@hono/node-server/serve-static";
import { createClient } from "@libsql/client";
import { migrate } from "drizzle-orm/libsql/migrator";
import { execa } from "execa";
import { Hono } from "hono";
import { compress } from "hono/compress";
import { createApp } from "./app.ts";
import { dbFrom } from "./db/client.ts";
import type { Env } from "./env.ts";
import { runScheduled } from "./scheduled.ts";

/** The worker's Hono app on Node for `npm run dev`: a local libsql file, the UI from ui/dist. */
export async function startWorkerOnNode(opts: { env: Env; port: number; host?: string }) {
  const db = dbFrom(createClient({ url: opts.env.DATABASE_URL, authToken: opts.env.DATABASE_AUTH_TOKEN }));
  await migrate(db, { migrationsFolder: "drizzle" });
  const api = createApp({ db: () => db, clientIp: (c) => getConnInfo(c).remote.address, listLocalRepos, listLocalBranches });
  const app = new Hono<{ Bindings: Env }>();
  for (const prefix of ["/api/*", "/auth/*", "/internal/*"]) app.all(prefix, (c) => api.fetch(c.req.raw, c.env));
  const uiDir = process.env.OCWEB_UI_DIST ?? "ui/dist";
  if (existsSync(path.join(uiDir, "index.html"))) {
    // Cloudflare compresses static assets; so does the dev server, so a phone on it sees the same bytes.
    app.use("/assets/*", compress());
    app.use("/*", serveStatic({ root: uiDir }));
    app.get("*", serveStatic({ path: path.join(uiDir, "index.html") }));
  } else {
    app.get("/", (c) => c.html(placeholderPage));
  }
  // node-server passes {incoming, outgoing} as the env; getConnInfo reads the socket from it.
  const server = serve({ fetch: (req, nodeEnv) => app.fetch(req, { ...opts.env, ...nodeEnv }), port: opts.port, hostname: opts.host ?? "127.0.0.1" });
  await new Promise<void>((resolve) => server.once("listening", resolve));
  const cron = setInterval(() => void runScheduled(db, opts.env).catch((err) => console.error("cron:", err)), 60_000);
  return {
    url: `http://${opts.host ?? "127.0.0.1"}:${(server.address() as AddressInfo).port}`,
    /** One Cron Trigger run now (the timer runs one a minute). */
    scheduled: () => runScheduled(db, opts.env),
    async close() {
      clearInterval(cron);
      server.close();
    },
  };
}

/** For a file:// git base: the `owner/name.git` folders two levels down are the repos. */
async function listLocalRepos(gitBaseUrl: string): Promise<string[]> {
  if (!gitBaseUrl.startsWith("file://")) return [];
  const root = fileURLToPath(gitBaseUrl);
  const owners = await readdir(root, { withFileTypes: true }).catch(() => []);
  const repos: string[] = [];
  for (const owner of owners.filter((d) => d.isDirectory())) {
    const names = await readdir(path.join(root, owner.name), { withFileTypes: true });
    for (const n of names) if (n.isDirectory() && n.name.endsWith(".git")) repos.push(`${owner.name}/${n.name.slice(0, -4)}`);
  }
  return repos.sort();
}

async function listLocalBranches(gitBaseUrl: string, repo: string) {
  const bare = path.join(fileURLToPath(gitBaseUrl), `${repo}.git`);
  const git = (args: string[]) => execa("git", args, { cwd: bare, reject: false });
  const refs = await git(["for-each-ref", "--format=%(refname:short)", "refs/heads/"]);
  const head = await git(["symbolic-ref", "--short", "HEAD"]);
  return { branches: refs.exitCode === 0 ? refs.stdout.split("\n").filter(Boolean) : [], defaultBranch: head.exitCode === 0 ? head.stdout.trim() : null };
}

const placeholderPage = `<!doctype html><meta name=viewport content="width=device-width"><title>ocweb</title>
<body style="font:16px system-ui;margin:2rem;max-width:36rem">
<h1>ocweb</h1><p>The worker and the box are running. The phone UI is not built yet (issue #7).</p>
<p><a href="/auth/dev">Sign in locally</a>, then try <a href="/api/me">/api/me</a>, <a href="/api/repos">/api/repos</a>, <a href="/api/chats">/api/chats</a>.</p>`;
