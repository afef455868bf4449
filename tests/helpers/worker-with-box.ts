import { makeRemote } from "./git-fixture.ts";
import { startTestBox, TEST_TOKEN } from "./box-harness.ts";
import { freePort } from "./scratch-opencode.ts";
import { startTestWorker, type TestWorker } from "./worker-harness.ts";
import { waitFor } from "./wait-for.ts";

/**
 * The worker in workerd wired to a real box (webhooks both ways) on a fresh remote `acme/app`,
 * signed in as alice. The box's port is fixed so a test can restart the box where the worker expects it.
 */
export async function startWorkerWithBox(opts: { bindings?: Record<string, string> } = {}) {
  const remote = await makeRemote({ owner: "acme", name: "app", files: { "README.md": "# app\n" } });
  const [workerPort, boxPort] = [await freePort(), await freePort()];
  const box = await startTestBox({ baseUrl: remote.baseUrl, port: boxPort, env: { WORKER_URL: `http://127.0.0.1:${workerPort}` } });
  const worker = await startTestWorker({ port: workerPort, boxUrl: box.url, boxToken: TEST_TOKEN, bindings: { DEV_LOGIN: "1", ...opts.bindings } });
  await worker.signInDev("alice");
  return { remote, box, worker, boxPort };
}

type RunChat = { id: string; status: string };

/** Waits until the chat has `prompts` prompts, every one sent, and is idle again; answers the chat. */
export function runFinished<C extends RunChat = RunChat>(worker: TestWorker, chatId: string, prompts: number, timeoutMs = 60_000): Promise<C> {
  return waitFor(`chat ${chatId} to finish ${prompts} prompt(s)`, async () => {
    const list = (await worker.json<{ prompts: Array<{ state: string }> }>(`/api/chats/${chatId}/prompts`)).body.prompts;
    // Prompts first: once the last reads "sent", the chat was marked busy in the same batch.
    const chat = (await worker.json<{ chat: C }>(`/api/chats/${chatId}`)).body.chat;
    return list.length === prompts && list.every((p) => p.state === "sent") && chat.status === "idle" ? chat : undefined;
  }, timeoutMs);
}

type Message = { info: { role: string }; parts: Array<{ metadata?: { ocwebPromptId?: string } }> };

/** The promptIds the box tagged the session's user messages with, read through the worker's pass-through. */
export async function deliveredPromptIds(worker: TestWorker, sessionId: string): Promise<string[]> {
  const res = await worker.json<Message[]>(`/api/box/oc/session/${sessionId}/message`);
  if (res.status !== 200) throw new Error(`messages of ${sessionId}: ${res.status} ${res.text}`);
  return res.body.filter((m) => m.info.role === "user").flatMap((m) => m.parts.map((p) => p.metadata?.ocwebPromptId)).filter((id): id is string => Boolean(id));
}
