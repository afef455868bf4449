/** What the device says: its width, its network, and a clock for relative times. */
import { createSignal } from "solid-js";

function mediaSignal(query: string) {
  const mq = window.matchMedia(query);
  const [matches, setMatches] = createSignal(mq.matches);
  mq.addEventListener("change", (e) => setMatches(e.matches));
  return matches;
}

/** ≥ 1024 px: the list and the page side by side. */
export const wide = mediaSignal("(min-width: 1024px)");

const [online, setOnline] = createSignal(navigator.onLine);
window.addEventListener("online", () => setOnline(true));
window.addEventListener("offline", () => setOnline(false));
export { online };

/** fetch rejects with a TypeError when the network (not the server) failed. */
export const isNetworkError = (err: unknown) => err instanceof TypeError;

/** A clock for relative times, ticking every 30 s. */
const [now, setNow] = createSignal(Date.now());
setInterval(() => setNow(Date.now()), 30_000);
export { now };
