import type { Todo } from "@opencode-ai/sdk/v2/client";
import { For, Show } from "solid-js";

const MARK: Record<string, string> = { completed: "☑", in_progress: "▸", cancelled: "☒" };

/** The agent's plan, pinned above the transcript while it works. */
export function Todos(props: { todos: Todo[] }) {
  const done = () => props.todos.filter((t) => t.status === "completed").length;
  return (
    <Show when={props.todos.length > 0}>
      <details class="todos" open>
        <summary>Plan · {done()}/{props.todos.length}</summary>
        <ul>
          <For each={props.todos}>
            {(t) => (
              <li data-status={t.status}>
                <span class="todo-mark" aria-hidden="true">{MARK[t.status] ?? "☐"}</span>
                <span class="todo-text">{t.content}</span>
              </li>
            )}
          </For>
        </ul>
      </details>
    </Show>
  );
}
