import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { resolveOpencodeBinary } from "../../box/opencode/binary.ts";
import { ocClient } from "../../box/opencode/client.ts";
import { EventFollower, type GlobalEvent } from "../../box/opencode/event-follower.ts";
import { OpencodeSupervisor } from "../../box/opencode/supervisor.ts";

const dirs: string[] = [];
const followers: EventFollower[] = [];
let sup: OpencodeSupervisor;
let repo: string;

async function tempDir(prefix: string) {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

type Recorded = { follower: EventFollower; log: string[]; events: GlobalEvent[] };

function follow(opts: { watchdogMs?: number } = {}): Recorded {
  const follower = new EventFollower({ getTarget: () => (sup.up ? sup : undefined), ...opts });
  const rec: Recorded = { follower, log: [], events: [] };
  follower.on("connected", () => rec.log.push("connected"));
  follower.on("disconnected", () => rec.log.push("disconnected"));
  follower.on("event", (e) => {
    rec.events.push(e);
    rec.log.push(e.payload.type);
  });
  followers.push(follower);
  follower.start();
  return rec;
}

async function eventually(check: () => boolean, what: string) {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (check()) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting for: ${what}`);
}

async function createSession() {
  const res = await ocClient(sup, repo).session.create({});
  expect(res.response.status).toBe(200);
  return res.data?.id as string;
}

function createdEvent(rec: Recorded, sessionID: string) {
  return rec.events.find((e) => e.payload.type === "session.created" && e.payload.properties.sessionID === sessionID);
}

beforeAll(async () => {
  repo = await tempDir("ocweb-ef-repo-");
  await execa("git", ["init", "-q", repo]);
  await execa("git", ["-C", repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "init"]);
  sup = new OpencodeSupervisor({ bin: resolveOpencodeBinary(), homeDir: await tempDir("ocweb-ef-home-"), cwd: repo, env: {} });
  await sup.start();
});

afterAll(async () => {
  for (const f of followers) f.stop();
  await sup?.stop();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe("EventFollower on GET /global/event", () => {
  test("connects, then delivers session.created with its directory and no sync mirrors", async () => {
    const rec = follow();
    await eventually(() => rec.follower.connected, "connected");
    expect(rec.log[0]).toBe("connected");
    const id = await createSession();
    await eventually(() => createdEvent(rec, id) !== undefined, "session.created");
    expect(createdEvent(rec, id)?.directory).toBe(repo);
    expect(rec.events.some((e) => (e.payload.type as string) === "sync")).toBe(false);
    expect(rec.events.some((e) => ["server.heartbeat", "server.connected"].includes(e.payload.type))).toBe(false);
  });

  test("after opencode is killed: disconnected, then connected again once it is back, and events flow", async () => {
    const rec = follow();
    await eventually(() => rec.follower.connected, "connected");
    const up = once(sup, "up", { signal: AbortSignal.timeout(45_000) });
    process.kill(sup.pid as number, "SIGKILL");
    await eventually(() => rec.log.includes("disconnected"), "disconnected");
    expect(rec.follower.connected).toBe(false);
    await up;
    await eventually(() => rec.follower.connected, "connected again");
    const marks = rec.log.filter((l) => l === "connected" || l === "disconnected");
    expect(marks).toEqual(["connected", "disconnected", "connected"]);
    const id = await createSession();
    await eventually(() => createdEvent(rec, id) !== undefined, "session.created after reconnect");
  });

  test("the watchdog reconnects a stream that goes quiet", async () => {
    // Heartbeats come every 10 s, so a 1 s watchdog must fire on an idle stream.
    const rec = follow({ watchdogMs: 1000 });
    await eventually(() => rec.log.filter((l) => l === "connected").length >= 2, "a second connect");
    expect(rec.log.indexOf("disconnected")).toBeGreaterThan(rec.log.indexOf("connected"));
    rec.follower.stop();
  });

  test("stop() ends the stream: nothing arrives afterwards", async () => {
    const stopped = follow();
    const control = follow();
    await eventually(() => stopped.follower.connected && control.follower.connected, "both connected");
    stopped.follower.stop();
    expect(stopped.follower.connected).toBe(false);
    const before = stopped.log.length;
    const id = await createSession();
    await eventually(() => createdEvent(control, id) !== undefined, "control follower saw the session");
    expect(stopped.log.length).toBe(before);
    expect(createdEvent(stopped, id)).toBeUndefined();
  });
});
