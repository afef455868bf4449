import { useNavigate, useSearchParams } from "@solidjs/router";
import { For, Match, Show, Switch } from "solid-js";
import { api, json } from "../lib/api.ts";
import { createLoad } from "../lib/load.ts";
import { ScheduleDetail } from "./schedule-detail.tsx";
import { type Schedule, ScheduleForm } from "./schedule-form.tsx";
import { describeCron, localOffset, runTime } from "./schedule-presets.ts";
import "./box.css";
import "./schedules.css";

type Params = { id?: string; new?: string };
const fetchList = () => json<{ schedules: Schedule[] }>(api.api.schedules.$get());

/** /schedules: the list; ?new=1 the form; ?id=… one schedule (keyed: another id makes a new screen). */
export default function Schedules() {
  const [params] = useSearchParams<Params>();
  const navigate = useNavigate();
  const opened = (id: string) => navigate(`/schedules?id=${id}`);
  return (
    <Switch fallback={<ScheduleList />}>
      <Match when={params.new}>
        <div class="schedules">
          <a class="back-link" href="/schedules">‹ All schedules</a>
          <h2 class="screen-title">New schedule</h2>
          <ScheduleForm onSaved={opened} />
        </div>
      </Match>
      <Match when={params.id} keyed>{(id) => <ScheduleDetail id={id} />}</Match>
    </Switch>
  );
}

function ScheduleList() {
  const list = createLoad(() => true, fetchList);
  const offset = localOffset();
  return (
    <div class="schedules list">
      <Show when={list.error()}>
        <p class="notice bad" role="alert">{list.error()?.message}</p>
      </Show>
      <Show when={list.data()} fallback={<Show when={list.loading()}><p class="muted">Loading…</p></Show>}>
        {(d) => (
          <Show when={d().schedules.length > 0} fallback={<Empty />}>
            <ul class="schedule-rows">
              <For each={d().schedules}>
                {(s) => (
                  <li>
                    <a class="schedule-row" href={`/schedules?id=${s.id}`}>
                      <span class="row-top">
                        <span class="repo">{s.repo}</span>
                        <Show when={s.paused}>
                          <span class="chip" data-status="interrupted">paused</span>
                        </Show>
                      </span>
                      <span class="row-title">{s.prompt.trim().split("\n")[0]}</span>
                      <span class="muted small">
                        {describeCron(s.cron, offset)}
                        <Show when={s.next[0]}>{(at) => <> · next <time datetime={at()}>{runTime(at())}</time></>}</Show>
                      </span>
                    </a>
                  </li>
                )}
              </For>
            </ul>
          </Show>
        )}
      </Show>
      <a class="button primary new-schedule" href="/schedules?new=1">
        <span aria-hidden="true">+</span> New schedule
      </a>
    </div>
  );
}

function Empty() {
  return (
    <div class="list-empty">
      <p class="empty-title">No schedules yet</p>
      <p class="muted">Run a prompt on a timetable — a nightly dependency bump, a morning triage — and find the chat waiting for you.</p>
    </div>
  );
}
