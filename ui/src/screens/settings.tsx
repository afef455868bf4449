import { createSignal, For, Match, onMount, Show, Switch } from "solid-js";
import { deviceName, type Device, disablePush, enablePush, listDevices, pushState, type PushState, removeDevice, sendTest, thisDevice } from "../lib/push.ts";
import { handleUnauthorized, signOut, user } from "../lib/session.ts";
import { ConfirmButton } from "./confirm-button.tsx";
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
      <Notifications />
    </div>
  );
}

const STATE_TEXT: Record<PushState, string> = {
  on: "On for this device: you get a ping when a chat is done, needs you, or fails.",
  off: "Off on this device. Turn them on to get a ping when a chat is done or needs you.",
  blocked: "Blocked by the browser. Allow notifications for this site in the browser's site settings, then reload.",
  install: "On iPhone and iPad, notifications need ocweb on the Home Screen: tap Share, then Add to Home Screen, open ocweb from there and turn them on here.",
  unsupported: "This browser cannot receive push notifications.",
};

const messageOf = (err: unknown) => (err instanceof TypeError ? "Could not reach the server." : err instanceof Error ? err.message : String(err));

function Notifications() {
  const [state, setState] = createSignal<PushState>();
  const [devices, setDevices] = createSignal<Device[]>();
  const [listError, setListError] = createSignal<string>();
  const [busy, setBusy] = createSignal(false);
  const [error, setError] = createSignal<string>();
  const [note, setNote] = createSignal<string>();

  const refresh = async () => {
    const list = await listDevices().catch((err: unknown) => {
      if (!handleUnauthorized(err)) setListError(messageOf(err));
      return undefined;
    });
    if (list) setListError(undefined);
    setDevices(list);
    setState(await pushState(list).catch(() => "unsupported" as const));
  };
  // Permission is asked only from a tap (enablePush), never on load.
  const act = async (fn: () => Promise<string | void>) => {
    setBusy(true);
    setError(undefined);
    setNote(undefined);
    try {
      setNote((await fn()) ?? undefined);
    } catch (err) {
      if (!handleUnauthorized(err)) setError(messageOf(err));
    } finally {
      setBusy(false);
      await refresh();
    }
  };
  const test = async () => {
    const r = await sendTest();
    if (r.sent === 0) return "No device has notifications on: nothing was sent.";
    const gone = r.removed > 0 ? ` (${r.removed} gone device${r.removed === 1 ? "" : "s"} removed)` : "";
    return `Sent to ${r.sent} device${r.sent === 1 ? "" : "s"}${gone}.`;
  };
  onMount(() => void refresh());

  return (
    <section class="card" aria-labelledby="set-notify" aria-busy={busy()}>
      <h2 id="set-notify">Notifications</h2>
      <p role="status" data-push-state={state() ?? "checking"} classList={{ muted: state() !== "on" }}>
        {state() ? STATE_TEXT[state()!] : "Checking this device…"}
      </p>
      <Show when={error()}>
        <p class="notice bad" role="alert">{error()}</p>
      </Show>
      <Show when={note()}>
        <p class="notice" role="status">{note()}</p>
      </Show>
      <div class="actions">
        <Switch>
          <Match when={state() === "off"}>
            <button type="button" class="primary" disabled={busy()} onClick={() => void act(enablePush)}>
              Turn on for this device
            </button>
          </Match>
          <Match when={state() === "on"}>
            <button type="button" disabled={busy()} onClick={() => void act(disablePush)}>
              Turn off for this device
            </button>
          </Match>
        </Switch>
        <Show when={(devices()?.length ?? 0) > 0}>
          <button type="button" disabled={busy()} onClick={() => void act(test)}>
            Send a test notification
          </button>
        </Show>
      </div>
      <h3 class="small muted">Devices</h3>
      <Show when={listError()}>
        <p class="notice bad" role="alert">Could not load the devices: {listError()}</p>
      </Show>
      <Show when={devices()} fallback={<Show when={!listError()}><p class="muted small">Loading…</p></Show>}>
        {(list) => (
          <Show when={list().length > 0} fallback={<p class="muted small">No device gets notifications yet.</p>}>
            <ul class="items" aria-label="Devices with notifications">
              <For each={list()}>
                {(d) => (
                  <li class="item">
                    <span class="item-main">
                      <span class="item-title">
                        {deviceName(d.userAgent)}
                        <Show when={d.id === thisDevice()}> <span class="chip">this device</span></Show>
                      </span>
                      <span class="muted small">added {new Date(d.createdAt).toLocaleDateString(undefined, { day: "numeric", month: "short", year: "numeric" })}</span>
                    </span>
                    <ConfirmButton label="Remove" confirmLabel="Remove device" subject={deviceName(d.userAgent)} onConfirm={() => act(() => removeDevice(d.id))} />
                  </li>
                )}
              </For>
            </ul>
          </Show>
        )}
      </Show>
    </section>
  );
}
