import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { parseBoxEnv } from "../box/env.ts";
import { closeOnSignals, serveBox } from "../box/serve.ts";
import { startWorkerOnNode } from "../worker/node.ts";
import { ensureDevRemote } from "./dev-remote.ts";

// The whole loop on loopback with embedded defaults; each one can be overridden from the environment.
const root = path.resolve(".data");
mkdirSync(root, { recursive: true });
const secret = (name: string) => {
  const file = path.join(root, name);
  if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString("base64url"), { mode: 0o600 });
  return readFileSync(file, "utf8").trim();
};

/** A VAPID key pair for Web Push, made once (a P-256 private JWK, the format VAPID_PRIVATE_KEY takes). */
const vapidKey = async () => {
  const file = path.join(root, "dev-vapid.jwk.json");
  if (!existsSync(file)) {
    const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
    writeFileSync(file, JSON.stringify(await crypto.subtle.exportKey("jwk", pair.privateKey)), { mode: 0o600 });
  }
  return readFileSync(file, "utf8").trim();
};

const port = Number(process.env.PORT ?? 8787);
const workerUrl = `http://127.0.0.1:${port}`;
const boxToken = process.env.BOX_TOKEN ?? secret("dev-box-token");
const gitBaseUrl = process.env.GIT_BASE_URL ?? (await ensureDevRemote(path.join(root, "dev-remote")));

const boxEnv = parseBoxEnv({
  ...process.env,
  BOX_TOKEN: boxToken,
  OCWEB_DATA: process.env.OCWEB_DATA ?? path.join(root, "box"),
  GIT_BASE_URL: gitBaseUrl,
  WORKER_URL: workerUrl,
});
// The UI: one build before the worker starts serving ui/dist, then rebuilt on every edit.
await execa("npx", ["vite", "build", "--config", "ui/vite.config.ts", "--logLevel", "warn"], { stdio: "inherit" });
const uiWatch = execa("npx", ["vite", "build", "--watch", "--config", "ui/vite.config.ts", "--logLevel", "warn"], { stdio: "inherit", reject: false });

const box = await serveBox(boxEnv, (line) => console.log(line));
const worker = await startWorkerOnNode({
  port,
  env: {
    DATABASE_URL: process.env.DATABASE_URL ?? `file:${path.join(root, "worker.db")}`,
    DATABASE_AUTH_TOKEN: process.env.DATABASE_AUTH_TOKEN,
    BOX_URL: box.url,
    BOX_TOKEN: boxToken,
    SESSION_SECRET: process.env.SESSION_SECRET ?? secret("dev-session-secret"),
    DEV_LOGIN: "1",
    GIT_BASE_URL: gitBaseUrl,
    GITHUB_CLIENT_ID: process.env.GITHUB_CLIENT_ID,
    GITHUB_CLIENT_SECRET: process.env.GITHUB_CLIENT_SECRET,
    ALLOWED_GITHUB_USERS: process.env.ALLOWED_GITHUB_USERS,
    GITHUB_API_URL: process.env.GITHUB_API_URL,
    GITHUB_OAUTH_URL: process.env.GITHUB_OAUTH_URL,
    VAPID_PRIVATE_KEY: process.env.VAPID_PRIVATE_KEY ?? (await vapidKey()),
    VAPID_PUBLIC_KEY: process.env.VAPID_PRIVATE_KEY ? process.env.VAPID_PUBLIC_KEY : undefined,
    VAPID_SUBJECT: process.env.VAPID_SUBJECT,
  },
});
closeOnSignals(async () => {
  uiWatch.kill("SIGTERM");
  await worker.close();
  await box.close();
});

console.log(`
ocweb dev is up →  ${worker.url}   (sign in locally at ${worker.url}/auth/dev)

  worker    ${worker.url}  (local libsql file .data/worker.db, local sign-in on)
  box       ${box.url}  (opencode ${box.box.supervisor.version} on loopback)
  model     ${boxEnv.demoModel ? "scripted demo model (no API key set)" : "from your API keys"}
  push      Web Push on, VAPID keys ${process.env.VAPID_PRIVATE_KEY ? "from VAPID_PRIVATE_KEY" : "in .data/dev-vapid.jwk.json"}
  repos     ${gitBaseUrl}${gitBaseUrl.startsWith("file://") ? "  (try demo/hello)" : ""}
`);
