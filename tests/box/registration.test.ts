import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createClient, type Client } from "@libsql/client";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseBoxEnv } from "../../box/env.ts";
import { dataLayout } from "../../box/names.ts";
import { startWorkerOnNode } from "../../worker/node.ts";
import { startTestBox, TEST_TOKEN, type BoxHarness } from "../helpers/box-harness.ts";
import { makeRemote, type Remote } from "../helpers/git-fixture.ts";
import { freePort } from "../helpers/scratch-opencode.ts";
import { waitFor } from "../helpers/wait-for.ts";

type Box = { id: string; url?: string; health: string; lastSeenAt?: string };

let remote: Remote;
let dir: string;
let worker: Awaited<ReturnType<typeof startWorkerOnNode>>;
let workerDb: Client;
let cookie = "";
let box: BoxHarness | undefined;
let boxPort = 0;
let key = "";
let boxId = "";
let token = "";

/** The real worker (on Node), as the signed-in user. */
const api = async <T>(route: string, init: { method?: string; body?: unknown } = {}) => {
  const res = await fetch(worker.url + route, {
    method: init.method ?? "GET",
    headers: { cookie, origin: worker.url, ...(init.body === undefined ? {} : { "content-type": "application/json" }) },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
};
const boxEnv = (extra: Record<string, string> = {}) => ({ WORKER_URL: worker.url, BOX_PUBLIC_URL: `http://127.0.0.1:${boxPort}`, ...extra });
const registered = async (dataDir: string) => {
  const db = createClient({ url: `file:${dataLayout(dataDir).stateDb}` });
  try {
    const value = (await db.execute("SELECT value FROM settings WHERE key = 'registration'")).rows[0]?.value;
    return value === undefined ? undefined : (JSON.parse(String(value)) as { boxId: string; token: string });
  } finally {
    db.close();
  }
};
/** `npm run box` as an operator starts it: a separate process, its exit code and what it printed. */
const runBoxProcess = (env: Record<string, string>) =>
  execa("node_modules/.bin/tsx", ["box/main.ts"], {
    env: { PATH: process.env.PATH, BOX_PORT: "0", OCWEB_DEMO_MODEL: "1", GIT_BASE_URL: remote.baseUrl, ...env },
    extendEnv: false,
    reject: false,
    timeout: 60_000,
  });

beforeAll(async () => {
  remote = await makeRemote({ owner: "acme", name: "reg", files: { "README.md": "# reg\n" } });
  dir = mkdtempSync(path.join(os.tmpdir(), "ocweb-reg-"));
  const dbUrl = `file:${path.join(dir, "worker.db")}`;
  worker = await startWorkerOnNode({ port: await freePort(), env: { DATABASE_URL: dbUrl, SESSION_SECRET: randomBytes(24).toString("base64url"), DEV_LOGIN: "1" } });
  workerDb = createClient({ url: dbUrl });
  const signIn = await fetch(`${worker.url}/auth/dev?login=alice`, { redirect: "manual" });
  cookie = signIn.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
  const made = await api<{ box: { id: string }; registrationKey: string }>("/api/boxes", { method: "POST", body: { name: "laptop" } });
  expect(made.status).toBe(201);
  key = made.body.registrationKey;
  boxId = made.body.box.id;
  boxPort = await freePort();
});
afterAll(async () => {
  await box?.dispose();
  workerDb?.close();
  await worker?.close();
  await remote?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

describe("a box started with OCWEB_REGISTRATION_KEY", () => {
  it("registers once: keeps its id and secret, answers only to that secret, and its signed webhooks are taken", async () => {
    box = await startTestBox({ baseUrl: remote.baseUrl, port: boxPort, env: boxEnv({ OCWEB_REGISTRATION_KEY: key }) });
    expect(box.lines).toContain(`registered with ${worker.url} as box ${boxId}, reachable at http://127.0.0.1:${boxPort}`);
    const stored = await registered(box.dataDir);
    expect(stored?.boxId).toBe(boxId);
    token = stored!.token;
    expect(token.length).toBeGreaterThanOrEqual(32);
    expect(box.box.services.token).toBe(token);
    expect((await box.call("GET", "/mgmt/chats")).status).toBe(200);
    expect((await box.call("GET", "/mgmt/chats", undefined, { authorization: `Bearer ${TEST_TOKEN}` })).status).toBe(401);

    const boxes = (await api<{ boxes: Box[] }>("/api/boxes")).body.boxes;
    expect(boxes).toMatchObject([{ id: boxId, url: `http://127.0.0.1:${boxPort}`, health: "ok" }]);
    // Only the box's chat.checkpoint webhook (x-ocweb-box, signed with its own key) writes a checkpoint row.
    const chat = (await api<{ chat: { id: string; boxId: string } }>("/api/chats", { method: "POST", body: { repo: "acme/reg", prompt: { text: "write hi.txt: hi\nsay: hi" } } })).body.chat;
    expect(chat.boxId).toBe(boxId);
    await waitFor("the checkpoint webhook in the worker's db", async () => {
      const rows = await workerDb.execute({ sql: "SELECT files_changed FROM checkpoints WHERE chat_id = ?", args: [chat.id] });
      return rows.rows[0]?.files_changed === 1 ? true : undefined;
    });
    expect(box.lines.filter((l) => l.includes("refused"))).toEqual([]);
  });

  it("restarted without the key (or with it still set) keeps its identity and does not register again", async () => {
    for (const env of [boxEnv(), boxEnv({ OCWEB_REGISTRATION_KEY: key })]) {
      await box!.dispose({ keepData: true });
      box = await startTestBox({ baseUrl: remote.baseUrl, port: boxPort, dataDir: box!.dataDir, env });
      expect(box.box.services.token).toBe(token);
      expect(box.lines.some((l) => l.startsWith("registered with"))).toBe(false);
      expect((await registered(box.dataDir))?.boxId).toBe(boxId);
      expect((await api(`/api/box/disk?box=${boxId}`)).status).toBe(200);
    }
    expect(box!.lines).toContain(`registered before as box ${boxId}: OCWEB_REGISTRATION_KEY is not used again (you may remove it)`);
  });

  it("with a used key, says so and exits non-zero without starting anything", async () => {
    const data = mkdtempSync(path.join(os.tmpdir(), "ocweb-box-"));
    try {
      const run = await runBoxProcess({ ...boxEnv({ OCWEB_REGISTRATION_KEY: key }), OCWEB_DATA: data });
      expect(run.exitCode).toBe(1);
      expect(run.stderr).toContain("box: the worker refused OCWEB_REGISTRATION_KEY (409): this registration key was already used");
      expect(run.stdout).not.toContain("box listening");
      expect(await registered(data)).toBeUndefined();
    } finally {
      rmSync(data, { recursive: true, force: true });
    }
  });

  it("with an expired key, says so too", async () => {
    const made = await api<{ box: { id: string }; registrationKey: string }>("/api/boxes", { method: "POST", body: { name: "old" } });
    await workerDb.execute({ sql: "UPDATE boxes SET created_at = ? WHERE id = ?", args: [Date.now() - 25 * 3_600_000, made.body.box.id] });
    const run = await runBoxProcess({ ...boxEnv({ OCWEB_REGISTRATION_KEY: made.body.registrationKey }), OCWEB_DATA: path.join(dir, "expired-box") });
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain("(410): this registration key expired");
  });
});

describe("the box's environment", () => {
  it("needs BOX_TOKEN, or a key with BOX_PUBLIC_URL and WORKER_URL", async () => {
    expect(() => parseBoxEnv({ OCWEB_REGISTRATION_KEY: key, WORKER_URL: worker.url })).toThrow("BOX_PUBLIC_URL is required with OCWEB_REGISTRATION_KEY");
    expect(() => parseBoxEnv({ BOX_TOKEN: "short" })).toThrow("BOX_TOKEN must be at least 32 characters");
    const run = await runBoxProcess({ OCWEB_DATA: path.join(dir, "no-token-box") });
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain("box: BOX_TOKEN is required");
  });
});
