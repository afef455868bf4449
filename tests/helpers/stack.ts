import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Env } from "../../worker/env.ts";
import { startWorkerOnNode } from "../../worker/node.ts";
import { startTestBox, TEST_TOKEN, type BoxHarness } from "./box-harness.ts";
import { makeRemote } from "./git-fixture.ts";
import { freePort } from "./scratch-opencode.ts";

export type Stack = Awaited<ReturnType<typeof startStack>>;

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
    env: {
      DATABASE_URL: `file:${path.join(dir, "worker.db")}`,
      BOX_URL: box.url,
      BOX_TOKEN: TEST_TOKEN,
      SESSION_SECRET: randomBytes(24).toString("base64url"),
      DEV_LOGIN: "1",
      GIT_BASE_URL: remote.baseUrl,
      ...opts.workerEnv,
    },
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
