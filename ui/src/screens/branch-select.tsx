import { For, Show } from "solid-js";
import { api, json } from "../lib/api.ts";
import { createLoad } from "../lib/load.ts";

type Branches = { branches: Array<{ name: string }>; defaultBranch: string | null };

const fetchBranches = (repo: string) => {
  const [owner = "", name = ""] = repo.split("/");
  return json<Branches>(api.api.repos[":owner"][":name"].branches.$get({ param: { owner, name } }));
};

/** The base branch as a one-line default: the repo's default branch unless one was picked. */
export function BranchSelect(props: { repo: string; value?: string; onChange: (base: string | undefined) => void }) {
  const branches = createLoad(() => props.repo, fetchBranches);
  const branch = () => props.value ?? branches.data()?.defaultBranch ?? "";
  const names = () => {
    const all = branches.data()?.branches.map((b) => b.name) ?? [];
    return props.value && !all.includes(props.value) ? [props.value, ...all] : all;
  };
  return (
    <label class="line">
      <span class="line-label">branch</span>
      <select aria-label="Branch" onChange={(e) => props.onChange(e.currentTarget.value || undefined)}>
        <Show when={!branches.data()?.defaultBranch}>
          <option value="">default branch</option>
        </Show>
        <For each={names()}>{(b) => <option value={b} selected={b === branch()}>{b}</option>}</For>
      </select>
    </label>
  );
}
