import type { InferResponseType } from "hono/client";
import { createSignal, For, Show } from "solid-js";
import { api, json } from "../lib/api.ts";
import { age } from "../lib/format.ts";
import type { Loaded } from "../lib/load.ts";
import { now } from "../lib/media.ts";
import { ConfirmButton } from "./confirm-button.tsx";

export type BoxList = InferResponseType<typeof api.api.boxes.$get, 200>;
export type BoxItem = BoxList["boxes"][number];

/** A box new chats and the dashboard can use: not retired, and registered (or the env box). */
export const isLive = (b: BoxItem) => !b.retired && b.health !== "pending";

const HEALTH: Record<BoxItem["health"], string> = { ok: "online", unreachable: "offline", pending: "waiting" };
const healthLabel = (b: BoxItem) => (b.retired ? "retired" : b.keyExpired ? "key expired" : HEALTH[b.health]);

/** Every box of the user's with its health; add one (a one-time key) or retire one. */
export function BoxesSection(props: { list: Loaded<BoxList>; onRetired: (id: string) => void }) {
  const [error, setError] = createSignal<string>();
  const boxes = () => props.list.data()?.boxes ?? [];
  const retire = async (id: string) => {
    setError(undefined);
    await json(api.api.boxes[":id"].retire.$post({ param: { id } })).then(() => {
      props.onRetired(id);
      props.list.reload();
    }, (err: Error) => setError(err.message));
  };
  return (
    <section class="card" aria-labelledby="card-boxes" aria-busy={props.list.loading()}>
      <h2 id="card-boxes">Boxes</h2>
      <Show when={props.list.error()?.message ?? error()}>{(message) => <p class="notice bad" role="alert">{message()}</p>}</Show>
      <Show when={props.list.data()} fallback={<Show when={props.list.loading()}><p class="muted">Loading…</p></Show>}>
        <Show when={boxes().some((b) => !b.retired)} fallback={<p class="muted">No box yet: add one, then start it with its key.</p>}>
          <ul class="items">
            <For each={boxes().filter((b) => !b.retired)}>
              {(b) => (
                <li class="item box-row">
                  <span class="item-main">
                    <span class="item-title">{b.name}</span>
                    <span class="muted small box-where">
                      {b.url ?? (b.keyExpired ? "its key expired: retire it and add a new one" : "waiting for its first start")}
                      <Show when={b.lastSeenAt}>{(t) => <> · seen {age(t(), now())} ago</>}</Show>
                    </span>
                  </span>
                  <span class="chip" data-health={b.retired ? "retired" : b.health}>{healthLabel(b)}</span>
                  <Show when={b.id !== "env"}>
                    <ConfirmButton label="Retire" confirmLabel="Retire box" subject={b.name} onConfirm={() => retire(b.id)} />
                  </Show>
                </li>
              )}
            </For>
          </ul>
        </Show>
        <Show when={boxes().some((b) => b.retired)}>
          <details class="retired">
            <summary class="muted small">{boxes().filter((b) => b.retired).length} retired</summary>
            <ul class="items">
              <For each={boxes().filter((b) => b.retired)}>
                {(b) => (
                  <li class="item">
                    <span class="item-main">
                      <span class="item-title">{b.name}</span>
                      <span class="muted small">its chats stay listed but can no longer run</span>
                    </span>
                  </li>
                )}
              </For>
            </ul>
          </details>
        </Show>
      </Show>
      <AddBox onAdded={props.list.reload} />
    </section>
  );
}

/** Name a box, get its key once, with the exact lines to start it with. */
function AddBox(props: { onAdded: () => void }) {
  const [name, setName] = createSignal("");
  const [busy, setBusy] = createSignal(false);
  const [error, setError] = createSignal<string>();
  const [added, setAdded] = createSignal<{ name: string; lines: string }>();
  const [copied, setCopied] = createSignal(false);
  const add = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const res = await json<{ box: { name: string }; registrationKey: string }>(api.api.boxes.$post({ json: { name: name().trim() } }));
      const lines = [`OCWEB_REGISTRATION_KEY=${res.registrationKey}`, `WORKER_URL=${location.origin}`, "BOX_PUBLIC_URL=https://<this box's tunnel URL>"].join("\n");
      setAdded({ name: res.box.name, lines });
      setName("");
      setCopied(false);
      props.onAdded();
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const copy = async (text: string) => {
    try {
      await navigator.clipboard.writeText(text); // undefined outside a secure context
      setCopied(true);
    } catch {
      setError("could not copy here: select the lines and copy them");
    }
  };
  return (
    <Show
      when={added()}
      fallback={
        <form class="add-box" onSubmit={(e) => void add(e)}>
          <label class="visually-hidden" for="box-name">New box name</label>
          <input id="box-name" placeholder="Name, e.g. laptop" maxLength={60} value={name()} onInput={(e) => setName(e.currentTarget.value)} />
          <button type="submit" class="primary" disabled={busy() || !name().trim()}>{busy() ? "Adding…" : "Add a box"}</button>
          <Show when={error()}><p class="notice bad" role="alert">{error()}</p></Show>
        </form>
      }
    >
      {(a) => (
        <div class="key-panel" role="status">
          <p>
            <strong>{a().name}</strong> added. Start the box with these lines in its environment. The key is shown only now and works once, within 24 hours.
          </p>
          <pre class="env-lines mono" aria-label={`Environment for ${a().name}`}>{a().lines}</pre>
          <Show when={error()}><p class="notice bad" role="alert">{error()}</p></Show>
          <div class="actions">
            <button type="button" class="primary" onClick={() => void copy(a().lines)}>{copied() ? "Copied" : "Copy"}</button>
            <button type="button" onClick={() => setAdded(undefined)}>Done</button>
          </div>
        </div>
      )}
    </Show>
  );
}
