import path from "node:path";

export * from "../lib/names.ts";

export const repoKey = (repo: string) => repo.replace("/", "__");

export function dataLayout(dataDir: string) {
  return {
    dataDir,
    reposDir: path.join(dataDir, "repos"),
    worktreesDir: path.join(dataDir, "worktrees"),
    opencodeDir: path.join(dataDir, "opencode"),
    stateDb: path.join(dataDir, "box.db"),
    repoCache: (repo: string) => path.join(dataDir, "repos", `${repoKey(repo)}.git`),
    worktree: (repo: string, chatId: string) => path.join(dataDir, "worktrees", `${repoKey(repo)}__${chatId}`),
  };
}
export type DataLayout = ReturnType<typeof dataLayout>;
