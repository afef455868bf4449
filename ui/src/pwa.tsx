import { useLocation, useNavigate } from "@solidjs/router";
import { createEffect, onCleanup, onMount, Show } from "solid-js";
import { useRegisterSW } from "virtual:pwa-register/solid";

const CHECK_EVERY_MS = 60 * 60 * 1000;
/** Sent by sw.ts when a notification is tapped while the app is already open on another page. */
const OPEN_URL = "ocweb:open-url";

/** registerType "prompt": a new build waits until the user says reload (a half-typed prompt is never cut off). */
export function UpdatePrompt() {
  const {
    needRefresh: [needRefresh, setNeedRefresh],
    updateServiceWorker,
  } = useRegisterSW({
    onRegisteredSW(_url, registration) {
      if (registration) setInterval(() => void registration.update().catch(() => undefined), CHECK_EVERY_MS);
    },
  });
  followNotificationTaps();
  return (
    <Show when={needRefresh()}>
      <div class="update-prompt" role="alert">
        <span>Update available</span>
        <button class="primary" type="button" onClick={() => void updateServiceWorker(true)}>
          Reload
        </button>
        <button type="button" onClick={() => setNeedRefresh(false)}>
          Later
        </button>
      </div>
    </Show>
  );
}

/**
 * A tapped notification routes this page in place (the service worker asks; no reload, drafts kept),
 * and a chat on screen has no business staying in the notification tray.
 */
function followNotificationTaps() {
  if (!("serviceWorker" in navigator)) return;
  const navigate = useNavigate();
  const location = useLocation();
  const onMessage = (event: MessageEvent) => {
    const data = event.data as { type?: unknown; url?: unknown } | null;
    if (data?.type === OPEN_URL && typeof data.url === "string" && /^\/(?!\/)/.test(data.url)) navigate(data.url);
  };
  onMount(() => {
    navigator.serviceWorker.addEventListener("message", onMessage);
    navigator.serviceWorker.startMessages();
  });
  onCleanup(() => navigator.serviceWorker.removeEventListener("message", onMessage));
  createEffect(() => {
    const path = location.pathname;
    if (!path.startsWith("/chats/") || document.visibilityState !== "visible") return;
    void navigator.serviceWorker.getRegistration().then(async (reg) => {
      for (const n of (await reg?.getNotifications()) ?? []) if ((n.data as { url?: string } | null)?.url?.split("?")[0] === path) n.close();
    });
  });
}
