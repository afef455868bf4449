import { createEffect, createSignal, For, on, Show } from "solid-js";
import { api, json } from "../lib/api.ts";
import { formatBytes } from "../lib/format.ts";

type GcResult = { removed: Array<{ kind: string; path: string; bytes: number; reason: string }>; freedBytes: number };

const runGc = (dryRun: boolean, box?: string) => json<GcResult>(api.api.box.gc.$post({ json: { dryRun, ...(box ? { box } : {}) } }));
const lastPart = (p: string) => p.split("/").filter(Boolean).pop() ?? p;

/** GC of one box (default: the server's default) in two steps: a dry run shows what would go, then the same call for real. */
export function GcSection(props: { box?: string; onDone: () => void }) {
  const [preview, setPreview] = createSignal<GcResult>();
  const [done, setDone] = createSignal<GcResult>();
  const [busy, setBusy] = createSignal(false);
  const [error, setError] = createSignal<string>();
  // Another box: the last preview was not of it.
  createEffect(on(() => props.box, () => {
    setPreview(undefined);
    setDone(undefined);
    setError(undefined);
  }, { defer: true }));
  const call = async (dryRun: boolean) => {
    setBusy(true);
    setError(undefined);
    try {
      const result = await runGc(dryRun, props.box);
      setPreview(dryRun ? result : undefined);
      setDone(dryRun ? undefined : result);
      if (!dryRun) props.onDone();
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="card" aria-labelledby="card-gc">
      <h2 id="card-gc">Clean up</h2>
      <p class="muted small">Removes archived chats' worktrees and unused clones until the disk is under budget. Busy chats and un-checkpointed work are never touched.</p>
      <Show when={error()}>
        <p class="notice bad" role="alert">{error()}</p>
      </Show>
      <Show when={preview()}>
        {(p) => (
          <div class="gc-preview">
            <Show when={p().removed.length > 0} fallback={<p>Nothing to remove: the box is tidy.</p>}>
              <p>
                Would free <strong>{formatBytes(p().freedBytes)}</strong>:
              </p>
              <ul class="items">
                <For each={p().removed}>
                  {(r) => (
                    <li class="item">
                      <span class="item-main">
                        <span class="item-title mono" title={r.path}>{lastPart(r.path)}</span>
                        <span class="muted small">
                          {r.kind} · {formatBytes(r.bytes)} · {r.reason}
                        </span>
                      </span>
                    </li>
                  )}
                </For>
              </ul>
            </Show>
          </div>
        )}
      </Show>
      <Show when={done()}>{(d) => <p role="status">Freed {formatBytes(d().freedBytes)} ({d().removed.length} removed).</p>}</Show>
      <div class="actions">
        <button type="button" disabled={busy()} onClick={() => void call(true)}>
          {preview() ? "Preview again" : "Preview clean-up"}
        </button>
        <Show when={preview()?.removed.length}>
          <button type="button" class="danger-solid" disabled={busy()} onClick={() => void call(false)}>
            Clean up now
          </button>
        </Show>
      </div>
    </section>
  );
}
