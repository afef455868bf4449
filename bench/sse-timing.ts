import { performance } from "node:perf_hooks";

/** Time from send() to the first text delta of opencode's /event stream for a directory, via the box. */
export async function firstTextDelay(opts: { url: string; token: string; directory: string; send: () => Promise<Response> }): Promise<number> {
  const controller = new AbortController();
  const res = await fetch(`${opts.url}/oc/event?directory=${encodeURIComponent(opts.directory)}`, {
    headers: { authorization: `Bearer ${opts.token}` },
    signal: controller.signal,
  });
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  await readUntil((frame) => frame.includes("server.connected"));
  const start = performance.now();
  const sent = await opts.send();
  if (sent.status !== 202) throw new Error(`send: ${sent.status} ${await sent.text()}`);
  await readUntil((frame) => frame.includes('"message.part.delta"') && frame.includes('"field":"text"'));
  const elapsed = performance.now() - start;
  controller.abort();
  return elapsed;

  async function readUntil(match: (frame: string) => boolean) {
    const deadline = performance.now() + 30_000;
    while (performance.now() < deadline) {
      const frames = buffer.split("\n\n");
      buffer = frames.pop()!;
      if (frames.some(match)) return;
      const { value, done } = await reader.read();
      if (done) throw new Error("event stream ended");
      buffer += value;
    }
    throw new Error("no matching event within 30 s");
  }
}
