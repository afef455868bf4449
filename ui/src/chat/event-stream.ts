/**
 * One opencode event stream with a watchdog. opencode sends a heartbeat every 10 s and never replays
 * (OPENCODE.md §4.2), so silence means a dead connection: abort, reconnect with backoff, and let the
 * caller re-fetch on the next `server.connected`.
 */
export type StreamState = "connecting" | "open" | "down";
export type StreamOptions = {
  open: (signal: AbortSignal) => Promise<AsyncIterable<unknown>>;
  onEvent: (event: unknown) => void;
  onState?: (state: StreamState) => void;
  watchdogMs?: number;
  backoff?: (attempt: number) => number;
};

export const WATCHDOG_MS = 25_000;
/** A frame older than this when the page comes back means the connection probably died meanwhile. */
export const STALE_AFTER_MS = 15_000;

export function reconnectDelay(attempt: number): number {
  return Math.min(250 * 2 ** attempt, 10_000);
}

export class EventStream {
  state: StreamState = "connecting";
  lastFrameAt = 0;
  private running = false;
  private attempt = 0;
  private ctl: AbortController | undefined;
  private watchdog: ReturnType<typeof setTimeout> | undefined;
  private retry: ReturnType<typeof setTimeout> | undefined;

  constructor(private opts: StreamOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.connect();
  }

  stop(): void {
    this.running = false;
    this.clearTimers();
    this.ctl?.abort();
    this.ctl = undefined;
  }

  /** The connection is known dead (offline, page frozen): report it now and retry with backoff. */
  drop(): void {
    if (this.running && this.ctl) this.lost();
  }

  /**
   * The page is back (visible, online): reconnect at once unless the stream is open and fresh.
   * "fresh": nothing to do but re-fetch; otherwise the next `server.connected` brings the re-fetch.
   */
  wake(now = Date.now()): "fresh" | "connecting" | "reconnecting" {
    if (!this.running) return "connecting";
    if (this.state === "open" && now - this.lastFrameAt < STALE_AFTER_MS) return "fresh";
    if (this.state !== "open" && this.ctl) return "connecting"; // an attempt is in flight; the watchdog guards it
    this.attempt = 0;
    if (this.state === "open") this.setState("down");
    this.connect();
    return "reconnecting";
  }

  private connect(): void {
    this.clearTimers();
    this.ctl?.abort();
    const ctl = new AbortController();
    this.ctl = ctl;
    this.arm(ctl);
    void this.consume(ctl);
  }

  private async consume(ctl: AbortController): Promise<void> {
    try {
      const events = await this.opts.open(ctl.signal);
      for await (const event of events) {
        if (ctl !== this.ctl) return;
        this.lastFrameAt = Date.now();
        this.arm(ctl);
        if (this.state !== "open") {
          this.attempt = 0;
          this.setState("open");
        }
        try {
          this.opts.onEvent(event);
        } catch (err) {
          console.error("event handler failed:", err);
        }
      }
    } catch {
      // aborted, refused or cut: handled below like a clean end
    }
    if (ctl === this.ctl && this.running) this.lost();
  }

  private lost(): void {
    this.clearTimers();
    this.ctl?.abort();
    this.ctl = undefined;
    this.setState("down");
    const delay = (this.opts.backoff ?? reconnectDelay)(this.attempt++);
    this.retry = setTimeout(() => this.connect(), delay);
  }

  private arm(ctl: AbortController): void {
    clearTimeout(this.watchdog);
    this.watchdog = setTimeout(() => {
      if (ctl === this.ctl) this.lost();
    }, this.opts.watchdogMs ?? WATCHDOG_MS);
  }

  private clearTimers(): void {
    clearTimeout(this.watchdog);
    clearTimeout(this.retry);
  }

  private setState(state: StreamState): void {
    if (state === this.state) return;
    this.state = state;
    this.opts.onState?.(state);
  }
}

/** Splits a text/event-stream body into the `data` of each frame (opencode sends `data:` lines only). */
export class SseParser {
  private buffer = "";

  push(chunk: string): string[] {
    this.buffer = (this.buffer + chunk).replace(/\r\n?/g, "\n");
    const frames = this.buffer.split("\n\n");
    this.buffer = frames.pop() ?? "";
    const out: string[] = [];
    for (const frame of frames) {
      const data = frame.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(l.startsWith("data: ") ? 6 : 5));
      if (data.length > 0) out.push(data.join("\n"));
    }
    return out;
  }
}

/** Opens `url` with streaming fetch and yields each frame's JSON (frames that are not JSON are skipped). */
export async function openSse(url: string, signal: AbortSignal, fetcher: typeof fetch = fetch): Promise<AsyncIterable<unknown>> {
  const res = await fetcher(url, { signal, headers: { accept: "text/event-stream" }, cache: "no-store", credentials: "same-origin" });
  if (!res.ok || !res.body) throw new Error(`event stream answered ${res.status}`);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  const parser = new SseParser();
  return {
    async *[Symbol.asyncIterator]() {
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          for (const data of parser.push(value)) {
            const event = parseJson(data);
            if (event !== undefined) yield event;
          }
        }
      } finally {
        reader.cancel().catch(() => undefined);
      }
    },
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
