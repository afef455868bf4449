import { mkdirSync, existsSync } from "node:fs";
import path from "node:path";
import type { Client } from "@libsql/client";
import { execa } from "execa";
import { ChatService } from "./chats/chat-service.ts";
import { ChatStore } from "./chats/chat-store.ts";
import type { ChatDeps } from "./chats/deps.ts";
import { PromptLedger } from "./chats/prompt-ledger.ts";
import { PromptPump } from "./chats/prompt-pump.ts";
import { RunStarts } from "./chats/run-starts.ts";
import { RunTracker, type OpencodeEvent } from "./chats/run-tracker.ts";
import { startDemoModel, type DemoModel } from "./demo-model/server.ts";
import { demoModelConfig } from "./demo-model/config.ts";
import type { BoxEnv } from "./env.ts";
import { ApiError } from "../lib/api-error.ts";
import { BoxBus } from "./events/bus.ts";
import { registerWithWorker, WebhookSender } from "./events/webhook-sender.ts";
import { CloneCache } from "./git/clone-cache.ts";
import { detach } from "./lib/detach.ts";
import { KeyedLock } from "./lib/keyed-lock.ts";
import { dataLayout } from "./names.ts";
import { resolveOpencodeBinary } from "./opencode/binary.ts";
import { ocClient } from "./opencode/client.ts";
import { EventFollower } from "./opencode/event-follower.ts";
import { killStaleOpencode } from "./opencode/stale.ts";
import { OpencodeSupervisor } from "./opencode/supervisor.ts";
import { createBoxApp } from "./app.ts";
import type { BoxServices } from "./services.ts";
import { openStateDb, storedRegistration, storeRegistration } from "./state/db.ts";

const RESYNC_MS = 15_000;
export const BOX_VERSION = "0.1.0";

/** Builds and starts the whole box: state, opencode, event follower, webhooks, HTTP app. */
export async function startBox(env: BoxEnv, log: (line: string) => void = (l) => console.log(l)) {
  const layout = dataLayout(env.dataDir);
  for (const dir of [layout.reposDir, layout.worktreesDir, layout.opencodeDir]) mkdirSync(dir, { recursive: true });
  const db = await openStateDb(layout.stateDb);
  const identity = await boxIdentity(env, db, log).catch((err: unknown) => {
    db.close();
    throw err;
  });
  const store = new ChatStore(db);
  const ledger = new PromptLedger(db);
  const bus = new BoxBus();
  const demo = env.demoModel ? await startDemoModel() : undefined;
  const home = await defaultInstanceRepo(layout.opencodeDir);

  const supervisor = new OpencodeSupervisor({
    bin: resolveOpencodeBinary(env.opencodeBin),
    homeDir: layout.opencodeDir,
    cwd: home,
    env: { ...env.opencodeEnv, ...demoEnv(demo, env.opencodeEnv) },
    port: env.opencodePort,
    onReady: async (sup) => {
      await pushModelKeys(sup, env.modelKeys);
      await warmProviders(sup);
    },
    log: (line) => log(`[opencode] ${line}`),
  });
  const cache = new CloneCache({ layout, baseUrl: env.gitBaseUrl, githubToken: env.githubToken, log });
  const deps: ChatDeps = {
    store,
    ledger,
    bus,
    layout,
    cache,
    opencode: () => {
      if (!supervisor.up) throw new ApiError(503, "opencode_unavailable", "opencode is restarting; try again shortly");
      return ocClient(supervisor);
    },
    pushAuth: cache.canPush() ? { baseUrl: env.gitBaseUrl, githubToken: env.githubToken } : undefined,
    locks: new KeyedLock(),
    runStarts: new RunStarts(),
    setupTimeoutMs: env.setupTimeoutMs,
    log,
  };
  const pump = new PromptPump(deps);
  const chats = new ChatService(deps, (chatId) => detach(() => pump.pump(chatId), `pump ${chatId}`, log));
  const tracker = new RunTracker(deps, chats, pump);
  const follower = new EventFollower({ getTarget: () => (supervisor.up ? { url: supervisor.url, authHeader: supervisor.authHeader } : undefined) });
  const sender = env.workerUrl ? new WebhookSender({ workerUrl: env.workerUrl, key: identity.token, boxId: identity.boxId, log }) : undefined;

  follower.on("event", (e: OpencodeEvent) => detach(() => tracker.onEvent(e), "event", log));
  // Every (re)connect, including after opencode restarts: missed events are re-read, then sends settled.
  follower.on("connected", () => detach(() => tracker.resync().then(() => pump.recover()), "resync", log));
  supervisor.on("down", (info) => {
    log(`opencode exited (${info.signal ?? info.code}); restarting`);
    detach(() => tracker.interruptAll(), "interrupt", log);
  });
  supervisor.on("up", () => sender?.send("/internal/box/hello", hello(supervisor, env.publicUrl)));
  bus.subscribe((e) => sender?.send("/internal/box/events", e));

  const stale = await killStaleOpencode(home);
  if (stale.length > 0) log(`killed opencode left from an earlier run: pid ${stale.join(", ")}`);
  await tracker.interruptAll(); // whatever was running before this box started is gone
  await supervisor.start();
  follower.start();
  const resync = setInterval(() => detach(() => tracker.resync(), "resync", log), RESYNC_MS);

  const services: BoxServices = {
    token: identity.token,
    layout,
    budgetBytes: env.diskBudgetBytes,
    store,
    ledger,
    chats,
    pump,
    bus,
    cache,
    opencode: supervisor,
    log,
  };
  return {
    app: createBoxApp(services),
    services,
    supervisor,
    tracker,
    demo,
    async stop() {
      clearInterval(resync);
      follower.stop();
      sender?.stop();
      await supervisor.stop();
      await demo?.close();
      db.close();
    },
  };
}

export type RunningBox = Awaited<ReturnType<typeof startBox>>;

/** `box.url`: a registered box's current address, so a new tunnel URL after a restart reaches the worker. */
function hello(sup: OpencodeSupervisor, url: string | undefined) {
  return { box: { version: BOX_VERSION, ...(url ? { url } : {}) }, opencode: { version: sup.version ?? null }, at: Date.now() };
}

/** The token the box answers to and signs with: its registration (kept, or made now with the key), else BOX_TOKEN. */
async function boxIdentity(env: BoxEnv, db: Client, log: (line: string) => void): Promise<{ token: string; boxId?: string }> {
  const stored = await storedRegistration(db);
  if (stored) {
    if (env.registrationKey) log(`registered before as box ${stored.boxId}: OCWEB_REGISTRATION_KEY is not used again (you may remove it)`);
    return stored;
  }
  if (env.registrationKey && env.workerUrl && env.publicUrl) {
    const made = await registerWithWorker(env.workerUrl, env.registrationKey, env.publicUrl);
    await storeRegistration(db, { ...made, workerUrl: env.workerUrl, registeredAt: Date.now() });
    log(`registered with ${env.workerUrl} as box ${made.boxId}, reachable at ${env.publicUrl}`);
    return made;
  }
  if (env.token) return { token: env.token };
  throw new Error("box: BOX_TOKEN is required (at least 32 characters), or OCWEB_REGISTRATION_KEY with BOX_PUBLIC_URL and WORKER_URL to register with the worker");
}

/** The demo model's provider, merged under whatever config the operator passed inline. */
function demoEnv(demo: DemoModel | undefined, given: Record<string, string>): Record<string, string> {
  if (!demo) return {};
  const operator = given.OPENCODE_CONFIG_CONTENT ? (JSON.parse(given.OPENCODE_CONFIG_CONTENT) as object) : {};
  return { OPENCODE_CONFIG_CONTENT: JSON.stringify({ ...demoModelConfig(demo.baseURL), ...operator }) };
}

async function pushModelKeys(sup: OpencodeSupervisor, keys: Record<string, string>) {
  for (const [providerID, key] of Object.entries(keys)) {
    const res = await fetch(`${sup.url}/auth/${providerID}`, {
      method: "PUT",
      headers: { authorization: sup.authHeader, "content-type": "application/json" },
      body: JSON.stringify({ type: "api", key }),
    });
    if (!res.ok) throw new Error(`could not set the ${providerID} key in opencode: ${res.status}`);
  }
}

/**
 * Loads opencode's providers before any run can: aborting the first run while it is still loading
 * them leaves opencode failing every later prompt ("All fibers interrupted without error").
 */
async function warmProviders(sup: OpencodeSupervisor) {
  const res = await fetch(`${sup.url}/provider`, { headers: { authorization: sup.authHeader } });
  if (!res.ok) throw new Error(`opencode could not list its providers: ${res.status}`);
  await res.body?.cancel();
}

/** opencode's default instance is its cwd; a non-git cwd maps to the "global" project rooted at /. */
async function defaultInstanceRepo(opencodeDir: string): Promise<string> {
  const dir = path.join(opencodeDir, "default-instance");
  if (existsSync(path.join(dir, ".git"))) return dir;
  mkdirSync(dir, { recursive: true });
  await execa("git", ["init", "-q", dir]);
  return dir;
}
