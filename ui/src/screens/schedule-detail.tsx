import { useNavigate } from "@solidjs/router";
import type { InferResponseType } from "hono/client";
import { createSignal, For, onCleanup, Show } from "solid-js";
import { api, json } from "../lib/api.ts";
import { createLoad } from "../lib/load.ts";
import { ConfirmButton } from "./confirm-button.tsx";
import { ScheduleForm } from "./schedule-form.tsx";
import { describeCron, localOffset, runTime } from "./schedule-presets.ts";

type Detail = InferResponseType<(typeof api.api.schedules)[":id"]["$get"], 200>;
type Run = Detail["runs"][number];
const REFRESH_MS = 15_000;

/** How a run's status reads, and which chip colour it borrows. */
const RUN_CHIPS: Record<string, [label: string, chip: string]> = {
  queued: ["queued", "queued"],
  busy: ["working", "busy"],
  idle: ["done", "idle"],
  error: ["error", "error"],
  interrupted: ["interrupted", "interrupted"],
  needs_you: ["needs you", "needs_you"],
  sent: ["ran", "idle"],
  failed: ["failed", "error"],
  skipped: ["skipped", "interrupted"],
  deleted: ["chat deleted", "queued"],
  starting: ["starting", "queued"],
};

/** One schedule: what, when, the next runs, pause/resume, and what its runs did. */
export function ScheduleDetail(props: { id: string }) {
  const navigate = useNavigate();
  const data = createLoad(() => props.id, (id) => json<Detail>(api.api.schedules[":id"].$get({ param: { id } })));
  const timer = setInterval(data.reload, REFRESH_MS);
  onCleanup(() => clearInterval(timer));
  const [busy, setBusy] = createSignal(false);
  const [error, setError] = createSignal<string>();
  const [editing, setEditing] = createSignal(false);
  const edited = () => {
    setEditing(false);
    data.reload();
  };
  const act = async (work: () => Promise<unknown>) => {
    setBusy(true);
    setError(undefined);
    await work().then(data.reload, (err: Error) => setError(err.message));
    setBusy(false);
  };
  const setPaused = (paused: boolean) => act(() => json(api.api.schedules[":id"].$patch({ param: { id: props.id }, json: { paused } })));
  const remove = () => act(() => json(api.api.schedules[":id"].$delete({ param: { id: props.id } })).then(() => navigate("/schedules")));
  return (
    <div class="schedules">
      <a class="back-link" href="/schedules">‹ All schedules</a>
      <Show when={data.error()}>
        <p class="notice bad" role="alert">{data.error()?.message}</p>
      </Show>
      <Show when={data.data()} fallback={<Show when={data.loading()}><p class="muted">Loading…</p></Show>}>
        {(d) => (
          <Show when={!editing()} fallback={<Edit schedule={d().schedule} onDone={edited} />}>
            <section class="card" aria-labelledby="schedule-title">
              <p class="muted small">{d().schedule.repo}{d().schedule.base ? ` · ${d().schedule.base}` : ""}</p>
              <h2 id="schedule-title" class="schedule-prompt">{d().schedule.prompt}</h2>
              <dl class="facts">
                <dt>when</dt>
                <dd>{describeCron(d().schedule.cron, localOffset())}</dd>
                <dt>each run</dt>
                <dd>
                  <Show when={d().schedule.reuse} fallback="starts a new chat">
                    continues <Show when={d().schedule.chatId} fallback="one chat (made by the first run)">{(id) => <a href={`/chats/${id()}`}>one chat</a>}</Show>
                  </Show>
                </dd>
                <dt>model</dt>
                <dd>{d().schedule.model ?? "box default"}</dd>
              </dl>
              <Show when={!d().schedule.paused} fallback={<p><span class="chip" data-status="interrupted">paused</span></p>}>
                <p class="preview-title">Next runs</p>
                <ol class="next-runs">
                  <For each={d().schedule.next}>{(at) => <li><time datetime={at}>{runTime(at)}</time></li>}</For>
                </ol>
              </Show>
              <Show when={error()}>
                <p class="notice bad" role="alert">{error()}</p>
              </Show>
              <div class="actions">
                <Show when={d().schedule.paused} fallback={<button type="button" disabled={busy()} onClick={() => void setPaused(true)}>Pause</button>}>
                  <button type="button" class="primary" disabled={busy()} onClick={() => void setPaused(false)}>Resume</button>
                </Show>
                <button type="button" onClick={() => setEditing(true)}>Edit</button>
                <ConfirmButton label="Delete" confirmLabel="Delete schedule" subject="this schedule" onConfirm={remove} />
              </div>
            </section>
            <section class="card" aria-labelledby="runs-title">
              <h2 id="runs-title">Runs</h2>
              <Show when={d().runs.length > 0} fallback={<p class="muted">No runs yet.</p>}>
                <ul class="items">
                  <For each={d().runs}>{(run) => <RunRow run={run} />}</For>
                </ul>
              </Show>
            </section>
          </Show>
        )}
      </Show>
    </div>
  );
}

function Edit(props: { schedule: Detail["schedule"]; onDone: () => void }) {
  return (
    <section class="card" aria-labelledby="edit-title">
      <h2 id="edit-title">Edit schedule</h2>
      <ScheduleForm schedule={props.schedule} onSaved={props.onDone} />
      <button type="button" onClick={() => props.onDone()}>Cancel</button>
    </section>
  );
}

function RunRow(props: { run: Run }) {
  const chip = () => RUN_CHIPS[props.run.status] ?? [props.run.status, "queued"];
  const late = () => Date.parse(props.run.ranAt) - Date.parse(props.run.scheduledFor) > 5 * 60_000;
  return (
    <li class="item run">
      <span class="item-main">
        <span class="run-top">
          <time datetime={props.run.scheduledFor}>{runTime(props.run.scheduledFor)}</time>
          <span class="chip" data-status={chip()[1]}>{chip()[0]}</span>
        </span>
        <Show when={props.run.chatId}>
          {(id) => <a class="run-chat" href={`/chats/${id()}`}>{props.run.title ?? "Open the chat"}</a>}
        </Show>
        <Show when={late() && props.run.status !== "skipped"}>
          <span class="muted small">ran late, at {runTime(props.run.ranAt)}</span>
        </Show>
        <Show when={props.run.error}>
          <span class="small" classList={{ "run-error": props.run.status !== "skipped", muted: props.run.status === "skipped" }}>{props.run.error}</span>
        </Show>
      </span>
    </li>
  );
}
