import { Show } from "solid-js";
import { useRegisterSW } from "virtual:pwa-register/solid";

const CHECK_EVERY_MS = 60 * 60 * 1000;

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
