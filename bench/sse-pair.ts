import { performance } from "node:perf_hooks";

export type Frame = { at: number; type: string; sessionId?: string; data: string };

/** Reads an SSE body into frames, each stamped with the time the chunk completing it arrived. */
export function readFrames(res: Response, onFrame: (f: Frame) => void): Promise<void> {
  if (!res.ok || !res.body) throw new Error(`event stream answered ${res.status}`);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  return (async () => {
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true as const }));
      if (done) return;
      const at = performance.now();
      buffer += value.replace(/\r\n/g, "\n");
      const frames = buffer.split("\n\n");
      buffer = frames.pop()!;
      for (const raw of frames) {
        const data = raw.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trimStart()).join("\n");
        if (!data) continue;
        const parsed = safeParse(data);
        onFrame({ at, type: parsed?.type ?? "", sessionId: parsed?.properties?.sessionID, data });
      }
    }
  })();
}

function safeParse(data: string): { type?: string; properties?: { sessionID?: string } } | undefined {
  try {
    return JSON.parse(data) as { type?: string; properties?: { sessionID?: string } };
  } catch {
    return undefined;
  }
}

/** Pairs the same frames seen on two streams (by payload and occurrence) and returns b.at − a.at for each. */
export function pairDelays(a: Frame[], b: Frame[]): { delays: number[]; unmatched: number } {
  const keyed = (frames: Frame[]) => {
    const seen = new Map<string, number>();
    return new Map(frames.map((f) => {
      const n = (seen.get(f.data) ?? 0) + 1;
      seen.set(f.data, n);
      return [`${n}#${f.data}`, f.at] as const;
    }));
  };
  const ka = keyed(a);
  const kb = keyed(b);
  const delays: number[] = [];
  for (const [key, at] of ka) {
    const bt = kb.get(key);
    if (bt !== undefined) delays.push(bt - at);
  }
  return { delays, unmatched: ka.size + kb.size - 2 * delays.length };
}
