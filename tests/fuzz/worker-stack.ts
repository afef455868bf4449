import { signBody } from "../../lib/signature.ts";
import { startTestBox, TEST_TOKEN, type BoxHarness } from "../helpers/box-harness.ts";
import { makeRemote, type Remote } from "../helpers/git-fixture.ts";
import { freePort } from "../helpers/scratch-opencode.ts";
import { waitFor } from "../helpers/wait-for.ts";
import { startTestWorker, type TestWorker } from "../helpers/worker-harness.ts";
import type { FuzzRequest } from "./arbitraries.ts";
import { readAnswer, type Answer } from "./fuzz-run.ts";

export const SESSION_SECRET = "test-session-secret-0123456789abcdef";
/** Set by the generators on a request the sender should sign as the env box (x-ocweb-signature). */
export const SIGN_MARK = "x-fuzz-sign";

type Chat = { id: string; status: string; sessionId?: string; directory?: string };
export type Fixture = {
  chat: Chat & { sessionId: string; directory: string };
  sha: string;
  otherUsersChat: string;
  scheduleId: string;
  subscriptionId: string;
  pendingBoxId: string;
  p256dh: string;
  auth: string;
};

async function vapidKey() {
  const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
  const jwk = await crypto.subtle.exportKey("jwk", pair.privateKey);
  return { json: JSON.stringify(jwk), d: jwk.d! };
}

/** A real box and the bundled worker in workerd, wired both ways; push services and GitHub answered locally. */
export async function startStack() {
  const remote: Remote = await makeRemote({ owner: "acme", name: "app", extraBranches: ["dev"] });
  const [workerPort, boxPort] = [await freePort(), await freePort()];
  const box: BoxHarness = await startTestBox({ baseUrl: remote.baseUrl, port: boxPort, env: { WORKER_URL: `http://127.0.0.1:${workerPort}` } });
  const vapid = await vapidKey();
  const worker: TestWorker = await startTestWorker({
    port: workerPort,
    boxUrl: box.url,
    boxToken: TEST_TOKEN,
    bindings: {
      DEV_LOGIN: "1",
      SESSION_SECRET,
      VAPID_PRIVATE_KEY: vapid.json,
      GITHUB_CLIENT_ID: "fuzz-client",
      GITHUB_CLIENT_SECRET: "fuzz-client-secret",
      GITHUB_OAUTH_URL: "https://github.fuzz.test",
      GITHUB_API_URL: "https://api.github.fuzz.test",
    },
    // Loopback (the box, sqld) goes through; push services, GitHub and fuzzed hosts are answered here.
    outbound: (req) => (["127.0.0.1", "localhost", "[::1]"].includes(new URL(req.url).hostname) ? undefined : new Response(null, { status: 201 })),
  });
  const cookies: Record<string, string> = {};
  for (const login of ["fuzzer", "mallory"]) {
    const res = await fetch(`${worker.url}/auth/dev?login=${login}`, { redirect: "manual" });
    cookies[login] = /ocweb_session=([^;]+)/.exec(res.headers.get("set-cookie") ?? "")![1]!;
  }
  const call = async <T>(login: string, method: string, route: string, body?: unknown) => {
    const res = await fetch(worker.url + route, {
      method,
      headers: { cookie: `ocweb_session=${cookies[login]}`, origin: worker.url, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`${method} ${route}: ${res.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  };

  const send = async (req: FuzzRequest): Promise<Answer> => {
    const { [SIGN_MARK]: sign, ...given } = req.headers;
    const headers: Record<string, string> = { origin: worker.url };
    // /auth/logout would end the fuzzing session, /auth/dev would switch it.
    if (!req.path.startsWith("/auth/")) headers.cookie = `ocweb_session=${cookies.fuzzer}`;
    if (sign && req.path.startsWith("/internal/")) headers["x-ocweb-signature"] = await signBody(TEST_TOKEN, req.body ?? "");
    Object.assign(headers, given);
    const url = `${worker.url}${req.path}${req.query ? `?${req.query}` : ""}`;
    const once = () => fetch(url, { method: req.method, headers, body: req.body, redirect: "manual" });
    // workerd resets a kept-alive connection after an answer that left the request body unread; the next
    // request on it fails before it is sent. One retry goes out on a fresh connection.
    const res = await once().catch(once).catch((err: Error) => {
      throw new Error(`the worker dropped the connection twice: ${err.message} (${String(err.cause)})`);
    });
    return readAnswer(res);
  };

  async function fixture(): Promise<Fixture> {
    const made = await call<{ chat: Chat }>("fuzzer", "POST", "/api/chats", { repo: "acme/app", prompt: { text: "write fuzz.txt: hi\nsay: done" } });
    const chat = await waitFor("the fixture chat idle on the box", async () => {
      const c = (await call<{ chat: Chat }>("fuzzer", "GET", `/api/chats/${made.chat.id}`)).chat;
      return c.sessionId && c.directory && c.status === "idle" ? (c as Fixture["chat"]) : undefined;
    }, 60_000);
    const { checkpoints } = await waitFor("a checkpoint", async () => {
      const list = await call<{ checkpoints: Array<{ sha: string }> }>("fuzzer", "GET", `/api/chats/${chat.id}/checkpoints`);
      return list.checkpoints.length > 0 ? list : undefined;
    });
    const other = await call<{ chat: Chat }>("mallory", "POST", "/api/chats", { repo: "ghost/none" });
    const schedule = await call<{ schedule: { id: string } }>("fuzzer", "POST", "/api/schedules", { repo: "acme/app", prompt: "say: scheduled", cron: "0 0 1 1 *" });
    const pair = await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, true, ["deriveBits"]);
    const p256dh = Buffer.from(await crypto.subtle.exportKey("raw", pair.publicKey)).toString("base64url");
    const auth = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64url");
    const sub = await call<{ subscription: { id: string } }>("fuzzer", "POST", "/api/push/subscriptions", { endpoint: "https://push.fuzz.test/ep/0", keys: { p256dh, auth } });
    const pending = await call<{ box: { id: string } }>("fuzzer", "POST", "/api/boxes", { name: "never registered" });
    return {
      chat,
      sha: checkpoints[0]!.sha,
      otherUsersChat: other.chat.id,
      scheduleId: schedule.schedule.id,
      subscriptionId: sub.subscription.id,
      pendingBoxId: pending.box.id,
      p256dh,
      auth,
    };
  }

  return {
    remote,
    box,
    worker,
    send,
    fixture,
    secrets: () => [TEST_TOKEN, SESSION_SECRET, vapid.d, box.box.supervisor.password, cookies.fuzzer!, cookies.mallory!],
    async dispose() {
      await worker.dispose();
      await box.dispose();
      await remote.cleanup();
    },
  };
}
export type Stack = Awaited<ReturnType<typeof startStack>>;
