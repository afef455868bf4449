import { readdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { CANARY_NAME } from "./attacks.ts";

/** Names a fuzzed write outside the data dirs would leave (the canary, a repo key, a traversal target, the demo model's notes). */
const SUSPECT = [CANARY_NAME, "__", "passwd", "win.ini", "environ", "ocweb-demo"];
const ROOTS = [os.tmpdir(), process.cwd()];

export type Snapshot = Map<string, Set<string>>;

/** The names directly under the temp root and the repo dir. */
export function snapshot(): Snapshot {
  return new Map(ROOTS.map((root) => [root, new Set(readdirSync(root))]));
}

/** New entries since `before` that look like ours (others' tests create temp dirs meanwhile), plus any canary. */
export function strayFiles(before: Snapshot): string[] {
  const out: string[] = [];
  for (const [root, names] of snapshot()) {
    for (const name of names) {
      const suspicious = SUSPECT.some((s) => name.includes(s));
      if (name.includes(CANARY_NAME) || (suspicious && !before.get(root)?.has(name))) out.push(path.join(root, name));
    }
  }
  return out;
}

/** Entries of a box data dir that are not what the box itself lays out there. */
export function oddDataEntries(dataDir: string): string[] {
  const segment = "[A-Za-z0-9_.-]{1,100}";
  const expected: Array<[string, RegExp]> = [
    ["", /^(repos|worktrees|opencode|box\.db(-wal|-shm|-journal)?)$/],
    ["repos", new RegExp(`^${segment}__${segment}\\.git$`)],
    ["worktrees", new RegExp(`^${segment}__${segment}__[0-9A-Z]{26}$`)],
  ];
  return expected.flatMap(([sub, re]) => readdirSync(path.join(dataDir, sub)).filter((n) => !re.test(n)).map((n) => path.join(dataDir, sub, n)));
}
