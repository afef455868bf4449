import type { Context } from "hono";

/** Work that may finish after the response: waitUntil in workerd; on Node the promise simply runs on. */
export function background(c: Context, work: Promise<unknown>, label: string) {
  const logged = work.catch((err) => console.error(`${label}:`, err));
  try {
    c.executionCtx.waitUntil(logged);
  } catch {
    // no ExecutionContext outside workerd
  }
}
