/** Polls `probe` until it returns something other than undefined; throws with `what` (and `last()`) on timeout. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 40_000, last: () => unknown = () => undefined): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      const seen = last();
      throw new Error(`timed out waiting for ${what}${seen === undefined ? "" : `; last seen: ${JSON.stringify(seen)}`}`);
    }
    await new Promise((r) => setTimeout(r, 150));
  }
}
