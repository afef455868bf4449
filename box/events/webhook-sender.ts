import { z } from "zod";
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
    /** `boxId`: a registered box names itself in x-ocweb-box (the worker then checks `key` against its token). */
    private opts: { workerUrl: string; key: string; boxId?: string; maxQueue?: number; log?: (line: string) => void },
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
      headers: {
        "content-type": "application/json",
        "x-ocweb-signature": await signBody(this.opts.key, text),
        ...(this.opts.boxId ? { "x-ocweb-box": this.opts.boxId } : {}),
      },
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

const registered = z.object({ boxId: z.string().regex(/^[0-9A-Z]{26}$/), token: z.string().min(32) });

/**
 * POST $WORKER_URL/internal/boxes/register with the one-time key: answers the box's id and its own
 * secret. Throws a message for the operator when the worker refuses (a used, expired or unknown key).
 */
export async function registerWithWorker(workerUrl: string, key: string, publicUrl: string): Promise<z.infer<typeof registered>> {
  const res = await fetch(`${workerUrl}/internal/boxes/register`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ key, url: publicUrl }),
    signal: AbortSignal.timeout(30_000),
  }).catch((err: Error) => {
    throw new Error(`box: could not reach the worker at ${workerUrl} to register: ${err.message}`);
  });
  const body = (await res.json().catch(() => undefined)) as { error?: { message?: string } } | undefined;
  if (!res.ok) throw new Error(`box: the worker refused OCWEB_REGISTRATION_KEY (${res.status}): ${body?.error?.message ?? "no reason given"}`);
  const parsed = registered.safeParse(body);
  if (!parsed.success) throw new Error(`box: the worker's answer to the registration is not {boxId, token}`);
  return parsed.data;
}
