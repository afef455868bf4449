import { type Accessor, createEffect, onCleanup } from "solid-js";
import { refreshChats } from "./chats-store.ts";
import { flushPending } from "./pending-sends.ts";

const FAST_MS = 5_000;
const SLOW_MS = 20_000;

/**
 * The list has no event stream: refresh it every 5 s while it is on screen (20 s otherwise, for the
 * box banner), at once when the app comes back to the foreground or online, never while hidden.
 */
export function startPolling(listShown: Accessor<boolean>): void {
  const tick = () => {
    if (document.visibilityState !== "visible") return;
    void flushPending();
    void refreshChats();
  };
  createEffect(() => {
    const timer = setInterval(tick, listShown() ? FAST_MS : SLOW_MS);
    onCleanup(() => clearInterval(timer));
  });
  tick();
  document.addEventListener("visibilitychange", tick);
  window.addEventListener("focus", tick);
  window.addEventListener("online", tick);
  onCleanup(() => {
    document.removeEventListener("visibilitychange", tick);
    window.removeEventListener("focus", tick);
    window.removeEventListener("online", tick);
  });
}
