import { createSignal, Show } from "solid-js";
import { signOut, user } from "../lib/session.ts";
import "./box.css";

export default function Settings() {
  const [busy, setBusy] = createSignal(false);
  const [error, setError] = createSignal<string>();
  const out = async () => {
    setBusy(true);
    await signOut().catch((err: Error) => setError(`${err instanceof TypeError ? "could not reach the server" : err.message}: you are still signed in`));
    setBusy(false);
  };
  return (
    <div class="settings">
      <section class="card" aria-labelledby="set-account">
        <h2 id="set-account">Account</h2>
        <p>
          Signed in as <strong>{user()?.login}</strong>
          <Show when={user()?.name && user()?.name !== user()?.login}> ({user()?.name})</Show>
        </p>
        <Show when={error()}>
          <p class="notice bad" role="alert">{error()}</p>
        </Show>
        <div class="actions">
          <button type="button" class="danger" disabled={busy()} onClick={() => void out()}>
            Sign out
          </button>
        </div>
      </section>
      <section class="card" aria-labelledby="set-box">
        <h2 id="set-box">Your box</h2>
        <p class="muted small">Disk, clones, clean-up and stray processes.</p>
        <div class="actions">
          <a class="button" href="/box">Open the box dashboard</a>
        </div>
      </section>
      <section class="card" aria-labelledby="set-notify">
        <h2 id="set-notify">Notifications</h2>
        <p class="muted">Coming soon: a ping when a chat is done or needs you.</p>
      </section>
    </div>
  );
}
