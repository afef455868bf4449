import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Env } from "../../worker/env.ts";
import { startWorkerOnNode } from "../../worker/node.ts";
import { startTestBox, TEST_TOKEN, type BoxHarness } from "./box-harness.ts";
import { makeRemote } from "./git-fixture.ts";
import { startGithubStandin, STANDIN_CLIENT_ID, STANDIN_CLIENT_SECRET, type StandinIssue } from "./github-standin.ts";
import { freePort } from "./scratch-opencode.ts";

export type Stack = Awaited<ReturnType<typeof startStack>>;

/** The worker's settings for a loopback stack: its database in `dir`, the box at `boxUrl`, local sign-in on. */
export function localWorkerEnv(opts: { dir: string; boxUrl: string; gitBaseUrl: string }) {
  return {
    DATABASE_URL: `file:${path.join(opts.dir, "worker.db")}`,
    BOX_URL: opts.boxUrl,
    BOX_TOKEN: TEST_TOKEN,
    SESSION_SECRET: randomBytes(24).toString("base64url"),
    DEV_LOGIN: "1",
    GIT_BASE_URL: opts.gitBaseUrl,
  };
}

/**
 * The whole loop on loopback, as `npm run dev` runs it: a git remote, the box (real opencode, the
 * scripted model), and the worker on Node serving the built UI (ui/dist) with the local sign-in.
 */
export async function startStack(opts: { boxEnv?: Record<string, string>; workerEnv?: Partial<Env>; files?: Record<string, string> } = {}) {
  const remote = await makeRemote({ owner: "acme", name: "widgets", files: opts.files ?? { "README.md": "# widgets\n", "src/app.js": "export const x = 1;\n" } });
  const dir = mkdtempSync(path.join(os.tmpdir(), "ocweb-stack-"));
  const port = await freePort();
  const box: BoxHarness = await startTestBox({ baseUrl: remote.baseUrl, env: { WORKER_URL: `http://127.0.0.1:${port}`, ...opts.boxEnv } });
  const worker = await startWorkerOnNode({
    port,
    env: { ...localWorkerEnv({ dir, boxUrl: box.url, gitBaseUrl: remote.baseUrl }), ...opts.workerEnv },
  });
  return {
    url: worker.url,
    box,
    remote,
    async close() {
      await worker.close();
      await box.dispose();
      await remote.cleanup();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The stack signed in through GitHub's OAuth instead of the local sign-in: the GitHub stand-in serves
 * alice and her repo acme/widgets (plus any `issues`), and the worker points at it.
 */
export async function startStackWithGithub(opts: { issues?: Record<string, StandinIssue[]> } = {}) {
  const gh = await startGithubStandin({
    users: [{ id: 701, login: "alice", name: "Alice A." }],
    repos: { alice: [{ full_name: "acme/widgets", private: false, default_branch: "main", pushed_at: "2026-01-01T00:00:00Z" }] },
    issues: opts.issues,
  });
  const stack = await startStack({
    workerEnv: {
      DEV_LOGIN: "0",
      GITHUB_CLIENT_ID: STANDIN_CLIENT_ID,
      GITHUB_CLIENT_SECRET: STANDIN_CLIENT_SECRET,
      GITHUB_API_URL: gh.url,
      GITHUB_OAUTH_URL: gh.url,
      ALLOWED_GITHUB_USERS: "alice",
    },
  });
  return {
    ...stack,
    gh,
    async close() {
      await stack.close();
      await gh.close();
    },
  };
}
