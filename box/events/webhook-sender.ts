import { signBody } from "../../lib/signature.ts";

type Post = { path: "/internal/box/events" | "/internal/box/hello"; body: unknown };

/**
 * Posts box events to the worker, signed, in order, retrying with backoff. The queue is bounded:
 * the worker resyncs from GET /mgmt/chats on every hello, so dropping the oldest under a long
 * outage loses no state, only notifications.
 */
export class WebhookSender {
  private queue: Post[] = [];
  private running = false;
  private stopped = false;

  constructor(
    private opts: { workerUrl: string; key: string; maxQueue?: number; log?: (line: string) => void },
  ) {}

  send(path: Post["path"], body: unknown) {
    if (this.stopped) return;
    this.queue.push({ path, body });
    const max = this.opts.maxQueue ?? 1000;
    if (this.queue.length > max) this.queue.splice(0, this.queue.length - max);
    void this.drain();
  }

  stop() {
    this.stopped = true;
  }

  private async drain() {
    if (this.running) return;
    this.running = true;
    let delay = 500;
    while (this.queue.length > 0 && !this.stopped) {
      const next = this.queue[0]!;
      const ok = await this.post(next).catch(() => false);
      if (ok) {
        this.queue.shift();
        delay = 500;
        continue;
      }
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 30_000);
    }
    this.running = false;
  }

  private async post({ path, body }: Post): Promise<boolean> {
    const text = JSON.stringify(body);
    const res = await fetch(this.opts.workerUrl + path, {
      method: "POST",
      headers: { "content-type": "application/json", "x-ocweb-signature": await signBody(this.opts.key, text) },
      body: text,
      signal: AbortSignal.timeout(10_000),
    });
    if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) {
      this.opts.log?.(`webhook ${path} refused: ${res.status}`);
      return true; // a refusal will not change on retry
    }
    return res.ok;
  }
}
