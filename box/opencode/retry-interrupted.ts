import type { IncomingMessage } from "node:http";
import { ApiError } from "../../lib/api-error.ts";
import { contentType } from "./read-pipe.ts";

/** opencode answers a bare 503 when the request's fiber was interrupted (an instance reloading); a read is safe to repeat. */
const INTERRUPTED_RETRY_MS = [100, 250, 500, 1_000, 2_000];
const interrupted = (res: IncomingMessage) => res.statusCode === 503 && !contentType(res).includes("json");

/**
 * Sends a read again while opencode answers it with a bare 503. When that lasts through every wait,
 * `onStuck` may reset what is stuck (it says whether it did) and the waits start over once.
 */
export async function retryInterrupted(
  send: () => Promise<IncomingMessage>,
  waitsMs = INTERRUPTED_RETRY_MS,
  onStuck?: () => Promise<boolean>,
): Promise<IncomingMessage> {
  let answered = await sendWhileInterrupted(send, waitsMs);
  if (!answered && onStuck && (await onStuck())) answered = await sendWhileInterrupted(send, waitsMs);
  if (answered) return answered;
  throw new ApiError(503, "opencode_unavailable", "opencode could not serve this request right now; try again shortly");
}

async function sendWhileInterrupted(send: () => Promise<IncomingMessage>, waitsMs: number[]): Promise<IncomingMessage | undefined> {
  let res = await send();
  for (const wait of waitsMs) {
    if (!interrupted(res)) return res;
    res.resume();
    await new Promise((r) => setTimeout(r, wait));
    res = await send();
  }
  if (!interrupted(res)) return res;
  res.resume();
  return undefined;
}
