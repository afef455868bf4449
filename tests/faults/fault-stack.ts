import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { startWorkerOnNode } from "../../worker/node.ts";
import { startTestBox, type BoxHarness } from "../helpers/box-harness.ts";
import { startFaultProxy } from "../helpers/fault-proxy.ts";
import { makeRemote } from "../helpers/git-fixture.ts";
import { freePort } from "../helpers/scratch-opencode.ts";
import { localWorkerEnv } from "../helpers/stack.ts";

export type FaultStack = Awaited<ReturnType<typeof startFaultStack>>;

/**
 * The whole loop with a fault proxy between the worker and the box: the worker on Node (serving the
 * UI), the box on a fixed port (so it can be restarted in place) with a one-byte disk budget, and a
 * cookie-keeping client signed in as alice.
 */
export async function startFaultStack() {
  const remote = await makeRemote({ owner: "acme", name: "app", files: { "README.md": "# app\n" } });
  const dir = mkdtempSync(path.join(os.tmpdir(), "ocweb-faults-"));
  const [workerPort, boxPort] = [await freePort(), await freePort()];
  const boxOpts = { baseUrl: remote.baseUrl, port: boxPort, env: { WORKER_URL: `http://127.0.0.1:${workerPort}`, DISK_BUDGET_BYTES: "1" } };
  let box: BoxHarness = await startTestBox(boxOpts);
  const proxy = await startFaultProxy({ port: boxPort });
  const worker = await startWorkerOnNode({ port: workerPort, env: localWorkerEnv({ dir, boxUrl: proxy.url, gitBaseUrl: remote.baseUrl }) });
  const signIn = await fetch(`${worker.url}/auth/dev?login=alice`, { redirect: "manual" });
  const cookie = signIn.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");

  /** A request as the signed-in phone sends it. */
  const call = (route: string, init: { method?: string; body?: unknown; signal?: AbortSignal } = {}) =>
    fetch(worker.url + route, {
      method: init.method ?? "GET",
      headers: { cookie, origin: worker.url, ...(init.body === undefined ? {} : { "content-type": "application/json" }) },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      signal: init.signal,
    });
  const json = async <T>(route: string, init: { method?: string; body?: unknown } = {}) => {
    const res = await call(route, init);
    const text = await res.text();
    if (res.status >= 300) throw new Error(`${init.method ?? "GET"} ${route}: ${res.status} ${text}`);
    return JSON.parse(text) as T;
  };

  return {
    remote,
    proxy,
    worker,
    cookie,
    call,
    json,
    get box() {
      return box;
    },
    /** Stops the box (and its opencode) and starts it again on the same port and data. */
    async restartBox() {
      await box.dispose({ keepData: true });
      box = await startTestBox({ ...boxOpts, dataDir: box.dataDir });
    },
    async close() {
      await worker.close();
      await proxy.close();
      await box.dispose();
      await remote.cleanup();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
