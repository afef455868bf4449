import { createMemo, createSignal, For, Show } from "solid-js";

export type DiffLine = { kind: "add" | "del" | "hunk" | "ctx" | "meta"; text: string };
const MAX_LINES = 1500;

/** Splits `git diff` output into each file's lines, keyed by its new path (old path for deletions). */
export function splitPatch(patch: string): Map<string, DiffLine[]> {
  const files = new Map<string, DiffLine[]>();
  for (const chunk of patch.split(/^(?=diff --git )/m)) {
    if (!chunk.startsWith("diff --git ")) continue;
    const lines = chunk.replace(/\n$/, "").split("\n");
    const plus = lines.find((l) => l.startsWith("+++ "));
    const minus = lines.find((l) => l.startsWith("--- "));
    const rename = lines.find((l) => l.startsWith("rename to "));
    const header = /^diff --git a\/(.+) b\/(.+)$/.exec(lines[0] ?? "");
    const path = (plus && plus !== "+++ /dev/null" ? plus.slice(6) : undefined)
      ?? rename?.slice(10)
      ?? (minus && minus !== "--- /dev/null" ? minus.slice(6) : undefined)
      ?? header?.[2] ?? "";
    const body = lines.slice(1).filter((l) => !l.startsWith("+++ ") && !l.startsWith("--- ") && !l.startsWith("index "));
    files.set(path, body.map((text) => ({
      kind: text.startsWith("@@") ? "hunk" : text.startsWith("+") ? "add" : text.startsWith("-") ? "del" : text.startsWith(" ") || text === "" ? "ctx" : "meta",
      text,
    })));
  }
  return files;
}

/** One file's unified diff: wrapped monospace, colored +/−, long files cut with a "show all". */
export function DiffView(props: { lines: DiffLine[] }) {
  const [all, setAll] = createSignal(false);
  const shown = createMemo(() => (all() ? props.lines : props.lines.slice(0, MAX_LINES)));
  return (
    <div class="diff" role="region" aria-label="diff">
      <Show when={props.lines.length > 0} fallback={<div class="diff-line meta">No text changes (binary or mode only).</div>}>
        <For each={shown()}>{(l) => <div class={`diff-line ${l.kind}`}>{l.text || " "}</div>}</For>
      </Show>
      <Show when={!all() && props.lines.length > MAX_LINES}>
        <button type="button" class="older" onClick={() => setAll(true)}>Show all {props.lines.length} lines</button>
      </Show>
    </div>
  );
}
