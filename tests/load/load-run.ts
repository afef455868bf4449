import { performance } from "node:perf_hooks";
import { pairDelays, readFrames, type Frame } from "../../bench/sse-pair.ts";
import { runFinished, startWorkerWithBox } from "../helpers/worker-with-box.ts";
import { waitFor } from "../helpers/wait-for.ts";

type Chat = { id: string; status: string; sessionId?: string; directory?: string };
type Message = { info: { role: string }; parts: Array<{ id: string; type: string; text?: string }> };
type Stream = { frames: Frame[]; done: Promise<void> };

export type LoadResult = {
  chats: number;
  subscribers: number;
  completed: number;
  /** Text deltas opencode emitted (its own stream, read directly), over all chats. */
  deltas: number;
  /** Deltas some subscriber never got, summed over subscribers. */
  lost: number;
  /** Parts whose text, rebuilt from one subscriber's deltas, differs from the stored message. */
  mismatches: string[];
  /** Per delta and subscriber: arrival through worker + box minus arrival straight from opencode (ms). */
  delays: number[];
  seconds: number;
};

/**
 * `chats` chats streaming at once with the scripted model, through the worker (workerd) and the box,
 * each followed by `subscribers` event streams as phones would, plus one read straight from opencode.
 */
export async function runLoad(opts: { chats: number; subscribers: number }): Promise<LoadResult> {
  const { remote, box, worker } = await startWorkerWithBox();
  try {
    const cookie = `ocweb_session=${worker.jar.get("ocweb_session")}`;
    const chats: Chat[] = [];
    for (let i = 0; i < opts.chats; i += 5) {
      const batch = Array.from({ length: Math.min(5, opts.chats - i) }, () => worker.json<{ chat: Chat }>("/api/chats", { method: "POST", body: { repo: "acme/app" } }));
      for (const made of await Promise.all(batch)) chats.push(made.body.chat);
    }
    const ready = await Promise.all(chats.map((c) => waitFor(`chat ${c.id} ready`, async () => {
      const chat = (await worker.json<{ chat: Chat }>(`/api/chats/${c.id}`)).body.chat;
      return chat.sessionId && chat.directory && chat.status === "idle" ? chat : undefined;
    }, 60_000)));

    const stop = new AbortController();
    const sup = box.box.supervisor;
    const open = async (url: string, headers: Record<string, string>): Promise<Stream> => {
      const frames: Frame[] = [];
      const res = await fetch(url, { headers, signal: stop.signal });
      return { frames, done: readFrames(res, (f) => frames.push(f)) };
    };
    const streams = await Promise.all(ready.map(async (chat) => {
      const dir = encodeURIComponent(chat.directory!);
      const direct = await open(`${sup.url}/event?directory=${dir}`, { authorization: sup.authHeader });
      const subs = await Promise.all(Array.from({ length: opts.subscribers }, () => open(`${worker.url}/api/box/oc/event?directory=${dir}`, { cookie })));
      return { chat, direct, subs };
    }));
    await waitFor("every stream connected", async () => (streams.every((s) => [s.direct, ...s.subs].every((x) => x.frames.length > 0)) ? true : undefined), 30_000);

    const started = performance.now();
    const text = (i: number) => `load run ${i}: please walk me through how the box streams a reply to every phone that follows this chat, word by word`;
    await Promise.all(ready.map(async (chat, i) => {
      const sent = await worker.json(`/api/chats/${chat.id}/prompts`, { method: "POST", body: { text: text(i) } });
      if (sent.status !== 202) throw new Error(`prompt to ${chat.id}: ${sent.status} ${sent.text}`);
    }));
    const finished = await Promise.all(ready.map((chat) => runFinished(worker, chat.id, 1, 180_000)));
    const seconds = (performance.now() - started) / 1000;

    const isDelta = (sid: string) => (f: Frame) => f.type === "message.part.delta" && f.sessionId === sid && f.data.includes('"field":"text"');
    // The streams run on after the run ends: wait (briefly) for every subscriber to hold what opencode sent.
    await waitFor("subscribers to catch up", async () => {
      const behind = streams.some(({ chat, direct, subs }) => subs.some((s) => s.frames.filter(isDelta(chat.sessionId!)).length < direct.frames.filter(isDelta(chat.sessionId!)).length));
      return behind ? undefined : true;
    }, 10_000).catch(() => undefined);
    stop.abort();
    await Promise.all(streams.flatMap(({ direct, subs }) => [direct.done, ...subs.map((s) => s.done)]));

    let deltas = 0;
    let lost = 0;
    const delays: number[] = [];
    const mismatches: string[] = [];
    for (const { chat, direct, subs } of streams) {
      const sid = chat.sessionId!;
      const reference = direct.frames.filter(isDelta(sid));
      deltas += reference.length;
      const stored = await worker.json<Message[]>(`/api/box/oc/session/${sid}/message`);
      const texts = stored.body.filter((m) => m.info.role === "assistant").flatMap((m) => m.parts.filter((p) => p.type === "text"));
      for (const [n, sub] of subs.entries()) {
        const mine = sub.frames.filter(isDelta(sid));
        const paired = pairDelays(reference, mine);
        lost += reference.length - paired.delays.length;
        delays.push(...paired.delays);
        const rebuilt = rebuildTexts(mine);
        for (const part of texts) {
          if ((rebuilt.get(part.id) ?? "") !== part.text) mismatches.push(`chat ${chat.id} subscriber ${n + 1} part ${part.id}`);
        }
      }
    }
    return { chats: chats.length, subscribers: opts.subscribers, completed: finished.filter((c) => c.status === "idle").length, deltas, lost, mismatches, delays, seconds };
  } finally {
    await worker.dispose();
    await box.dispose();
    await remote.cleanup();
  }
}

/** Each text part as the deltas alone build it (a lost or repeated delta shows as a different text). */
function rebuildTexts(frames: Frame[]): Map<string, string> {
  const texts = new Map<string, string>();
  for (const f of frames) {
    const { partID, delta } = (JSON.parse(f.data) as { properties: { partID: string; delta: string } }).properties;
    texts.set(partID, (texts.get(partID) ?? "") + delta);
  }
  return texts;
}
