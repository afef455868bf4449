import { generateKeyPairSync, randomBytes } from "node:crypto";
import { sha256Hex } from "../../worker/auth/crypto.ts";
import { startTestBox, TEST_TOKEN } from "../helpers/box-harness.ts";
import { makeRemote } from "../helpers/git-fixture.ts";
import { githubSignIn, startGithubStandin, STANDIN_CLIENT_ID, STANDIN_CLIENT_SECRET } from "../helpers/github-standin.ts";
import { freePort } from "../helpers/scratch-opencode.ts";
import { startTestWorker } from "../helpers/worker-harness.ts";
import { captureConsole, type Secret } from "./secrets.ts";

/** Push endpoints live here; the worker's fetches to it are answered by `outbound` (nothing resolves it). */
export const PUSH_ORIGIN = "https://push.intruders.test";
const hex = (n: number) => randomBytes(n).toString("hex");

/**
 * The worker in workerd (GitHub stand-in for OAuth, DEV_LOGIN for the second user, VAPID set) wired to a
 * real box (real opencode, scripted model) both ways. Alice signs in with GitHub, mallory with /auth/dev.
 * Every secret either side holds is fresh and listed in `secrets()`.
 */
export async function startIntruderStack() {
  const consoleLog = captureConsole();
  const undo: Array<() => Promise<unknown> | void> = [() => consoleLog.restore()];
  const dispose = async () => {
    for (const step of undo.splice(0).reverse()) await step();
  };
  try {
    return await start(consoleLog.lines, undo, dispose);
  } catch (err) {
    await dispose();
    throw err;
  }
}

async function start(logs: string[], undo: Array<() => Promise<unknown> | void>, dispose: () => Promise<void>) {
  const remote = await makeRemote({ owner: "acme", name: "app", files: { "README.md": "# app\n" } });
  const github = await startGithubStandin({
    users: [{ id: 1001, login: "alice", name: "Alice A." }],
    repos: { alice: [{ full_name: "acme/app", private: true, default_branch: "main", pushed_at: "2026-01-02T00:00:00Z" }] },
  });
  undo.push(() => remote.cleanup(), () => github.close());
  const vapid = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ format: "jwk" });
  const sessionSecret = `intruders-session-secret-${hex(16)}`;
  const boxGithubToken = `ghp_intruders${hex(16)}`;
  const modelKey = `sk-or-v1-intruders${hex(16)}`;
  const [workerPort, boxPort] = [await freePort(), await freePort()];
  const box = await startTestBox({
    baseUrl: remote.baseUrl,
    port: boxPort,
    env: { WORKER_URL: `http://127.0.0.1:${workerPort}`, GITHUB_TOKEN: boxGithubToken, OPENROUTER_API_KEY: modelKey },
  });
  undo.push(() => box.dispose());
  const worker = await startTestWorker({
    port: workerPort,
    boxUrl: box.url,
    boxToken: TEST_TOKEN,
    bindings: {
      DEV_LOGIN: "1",
      SESSION_SECRET: sessionSecret,
      ALLOWED_GITHUB_USERS: "alice",
      GITHUB_CLIENT_ID: STANDIN_CLIENT_ID,
      GITHUB_CLIENT_SECRET: STANDIN_CLIENT_SECRET,
      GITHUB_API_URL: github.url,
      GITHUB_OAUTH_URL: github.url,
      VAPID_PRIVATE_KEY: JSON.stringify(vapid),
    },
    // Every push is refused (429), so the worker logs a line for each: its log capture is then checked too.
    outbound: (req) => (new URL(req.url).origin === PUSH_ORIGIN ? new Response("slow down (intruders stand-in)", { status: 429 }) : undefined),
  });
  undo.push(() => worker.dispose());

  const signedIn = await githubSignIn(worker);
  if (signedIn.status !== 302) throw new Error(`alice's GitHub sign-in answered ${signedIn.status}: ${await signedIn.text()}`);
  const alice = worker.jar.get("ocweb_session")!;
  worker.jar.clear();
  await worker.signInDev("mallory");
  const mallory = worker.jar.get("ocweb_session")!;
  worker.jar.clear();
  await worker.signInDev("mallory");
  const revoked = worker.jar.get("ocweb_session")!;
  const out = await worker.fetch("/auth/logout", { method: "POST" });
  if (out.status !== 204) throw new Error(`logout answered ${out.status}`);
  worker.jar.set("ocweb_session", alice);
  const expired = randomBytes(32).toString("base64url");
  await worker.sqlClient.execute({
    sql: "INSERT INTO sessions (id, user_id, created_at, expires_at) VALUES (?, 'dev:mallory', ?, ?)",
    args: [await sha256Hex(expired), Date.now() - 31 * 86_400_000, Date.now() - 86_400_000],
  });

  /** Known only once handed out: GitHub tokens and registered boxes' tokens are added as they appear. */
  const extraSecrets: Secret[] = [];
  const secrets = (): Secret[] => [
    { name: "BOX_TOKEN", value: TEST_TOKEN },
    { name: "SESSION_SECRET", value: sessionSecret },
    { name: "the opencode password", value: box.box.supervisor.password },
    { name: "the opencode Basic header", value: box.box.supervisor.authHeader.slice("Basic ".length) },
    { name: "the box's GITHUB_TOKEN", value: boxGithubToken },
    { name: "a model provider key", value: modelKey },
    { name: "GITHUB_CLIENT_SECRET", value: STANDIN_CLIENT_SECRET },
    { name: "the VAPID private key (d)", value: String(vapid.d) },
    { name: "alice's session cookie", value: alice },
    ...[...github.tokens.keys()].map((t) => ({ name: `GitHub token of ${github.tokens.get(t)}`, value: t })),
    ...extraSecrets,
  ];

  return {
    remote,
    github,
    box,
    worker,
    cookies: { alice, mallory, revoked, expired },
    sessionSecret,
    logs,
    extraSecrets,
    secrets,
    dispose,
  };
}
export type IntruderStack = Awaited<ReturnType<typeof startIntruderStack>>;
