import { generateKeyPairSync, randomBytes } from "node:crypto";
import { newChatId } from "../helpers/box-harness.ts";
import { waitFor } from "../helpers/wait-for.ts";
import { send } from "./http.ts";
import type { Ledger } from "./ledger.ts";
import { PUSH_ORIGIN, type IntruderStack } from "./stack.ts";

type Chat = { id: string; status: string; sessionId?: string; directory?: string };
type Reply<T> = { status: number; body: T };
export type UserApi = <T = unknown>(route: string, init?: { method?: string; body?: unknown }) => Promise<Reply<T>>;

/** A signed-in user's same-origin JSON calls; the answers join the secret scan. */
export function userApi(stack: IntruderStack, ledger: Ledger, cookie: string): UserApi {
  return async <T>(route: string, init: { method?: string; body?: unknown } = {}) => {
    const method = init.method ?? "GET";
    const res = await send({
      method,
      url: stack.worker.url + route,
      headers: { cookie: `ocweb_session=${cookie}`, origin: stack.worker.url, "content-type": "application/json" },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
    ledger.keep(`legit ${method} ${route}`, res);
    return { status: res.status, body: (res.text ? JSON.parse(res.text) : undefined) as T };
  };
}

function must<T>(what: string, res: Reply<T>, status: number): T {
  if (res.status !== status) throw new Error(`${what}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** A box claims its registration key; the answer (its new token) is a secret, so it is not kept. */
async function register(stack: IntruderStack, key: string, url: string) {
  const res = await send({ method: "POST", url: `${stack.worker.url}/internal/boxes/register`, headers: { "content-type": "application/json" }, body: JSON.stringify({ key, url }) });
  if (res.status !== 201) throw new Error(`register: ${res.status} ${res.text}`);
  return JSON.parse(res.text) as { boxId: string; token: string };
}

const ranChat = (api: UserApi, id: string) =>
  waitFor(`chat ${id} on the box and idle`, async () => {
    const prompts = (await api<{ prompts: Array<{ state: string }> }>(`/api/chats/${id}/prompts`)).body.prompts;
    const chat = (await api<{ chat: Chat }>(`/api/chats/${id}`)).body.chat;
    return prompts.every((p) => p.state === "sent") && chat.status === "idle" && chat.sessionId && chat.directory ? chat : undefined;
  }, 90_000);

/** Alice's resources (the targets, with real ids) and mallory's own chat and box (her foothold). */
export async function makeVictims(stack: IntruderStack, ledger: Ledger) {
  const alice = userApi(stack, ledger, stack.cookies.alice);
  const mallory = userApi(stack, ledger, stack.cookies.mallory);
  const text = "write notes.txt: ALICE-PRIVATE-NOTE\nsay: ALICE-REPLY-WORDS";
  const made = must("alice's chat", await alice<{ chat: Chat }>("/api/chats", { method: "POST", body: { repo: "acme/app", prompt: { text } } }), 201);
  const theirs = must("mallory's chat", await mallory<{ chat: Chat }>("/api/chats", { method: "POST", body: { repo: "acme/app" } }), 201);
  const [chat, own] = [await ranChat(alice, made.chat.id), await ranChat(mallory, theirs.chat.id)];
  const cps = (await alice<{ checkpoints: Array<{ sha: string }> }>(`/api/chats/${chat.id}/checkpoints`)).body.checkpoints;
  const schedule = must("schedule", await alice<{ schedule: { id: string } }>("/api/schedules", { method: "POST", body: { repo: "acme/app", prompt: "nightly ALICE-PRIVATE-NOTE", cron: "0 3 * * *" } }), 201);
  const endpoint = `${PUSH_ORIGIN}/alice-${randomBytes(8).toString("hex")}`;
  const p256dh = generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey.export({ format: "der", type: "spki" }).subarray(-65).toString("base64url");
  const keys = { p256dh, auth: randomBytes(16).toString("base64url") };
  const sub = must("push subscription", await alice<{ subscription: { id: string } }>("/api/push/subscriptions", { method: "POST", body: { endpoint, keys } }), 201);

  const boxOf = async (cookie: string, name: string, url: string) => {
    const res = await send({ method: "POST", url: `${stack.worker.url}/api/boxes`, headers: { cookie: `ocweb_session=${cookie}`, origin: stack.worker.url, "content-type": "application/json" }, body: JSON.stringify({ name }) });
    const { box, registrationKey } = must(`box ${name}`, { status: res.status, body: JSON.parse(res.text) as { box: { id: string }; registrationKey: string } }, 201);
    const { token } = await register(stack, registrationKey, url);
    stack.extraSecrets.push({ name: `registration key of ${name}`, value: registrationKey }, { name: `token of ${name}`, value: token });
    return { id: box.id, key: registrationKey, token };
  };
  const aliceBox = await boxOf(stack.cookies.alice, "alice's laptop", stack.box.url);
  const hostileBox = await boxOf(stack.cookies.mallory, "mallory's box", "http://127.0.0.1:9");

  const victim = {
    chat: chat.id, sessionId: chat.sessionId!, directory: chat.directory!, sha: cps[0]?.sha ?? "0".repeat(40),
    schedule: schedule.schedule.id, subscription: sub.subscription.id, endpoint, keys, box: aliceBox.id, boxKey: aliceBox.key,
  };
  /** Ids of the same shape that exist nowhere: what mallory's answers must look like for alice's. */
  const missing = {
    chat: newChatId(), schedule: newChatId(), subscription: newChatId(), box: newChatId(),
    sessionId: `ses_${randomBytes(20).toString("hex").slice(0, victim.sessionId.length - 4)}`,
    directory: victim.directory.replace(chat.id, newChatId()),
  };
  return {
    alice,
    mallory,
    victim,
    missing,
    own: { chat: own.id, sessionId: own.sessionId!, directory: own.directory! },
    hostileBox,
    /** Strings only alice's data holds: none may reach mallory. */
    markers: [chat.id, chat.sessionId!, chat.directory!, schedule.schedule.id, sub.subscription.id, endpoint, aliceBox.id, "ALICE-PRIVATE-NOTE", "ALICE-REPLY-WORDS", ...cps.map((c) => c.sha)],
  };
}
export type Victims = Awaited<ReturnType<typeof makeVictims>>;
