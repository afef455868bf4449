import { badRequest, conflict } from "../../lib/api-error.ts";
import { errorText, gitAt, identityEnv, isSha, redact, tryRaw, type GitAuth } from "./git.ts";

export type CheckpointResult = { sha: string; filesChanged: number; pushed: boolean; pushError?: string };
export type CheckpointEntry = { sha: string; message: string; files: string[]; filesChanged: number; createdAt: string };

/** Commits everything in the worktree as ocweb on `branch`; null when there is nothing to commit. */
export async function checkpoint(opts: {
  worktree: string;
  branch: string;
  message: string;
  push?: { auth: GitAuth };
}): Promise<CheckpointResult | null> {
  const git = gitAt(opts.worktree, { env: identityEnv });
  const head = await tryRaw(git, ["symbolic-ref", "--quiet", "HEAD"]);
  if (head?.trim() !== `refs/heads/${opts.branch}`) throw conflict(`worktree is not on branch ${opts.branch}`);

  await git.raw(["add", "--all"]);
  const staged = await git.raw(["diff", "--cached", "--name-only", "-M", "-z"]);
  const filesChanged = staged.split("\0").filter(Boolean).length;
  if (filesChanged === 0) return null;
  // Hooks and signing come from the repo or the user's config; a checkpoint must never depend on them.
  await git.raw(["commit", "--quiet", "--no-verify", "--no-gpg-sign", ...commitMessage(opts.message).flatMap((m) => ["-m", m])]);
  const sha = (await git.raw(["rev-parse", "--verify", "HEAD"])).trim();
  if (!opts.push) return { sha, filesChanged, pushed: false };

  const { auth } = opts.push;
  try {
    const ref = `refs/heads/${opts.branch}`;
    await gitAt(opts.worktree, { auth }).raw(["push", "--quiet", "origin", `${ref}:${ref}`]);
    return { sha, filesChanged, pushed: true };
  } catch (err) {
    return { sha, filesChanged, pushed: false, pushError: pushErrorText(redact(errorText(err), auth)) };
  }
}

function pushErrorText(text: string): string {
  const lines = text.split("\n").filter((l) => l.trim() && !l.startsWith("hint:"));
  return lines.join("\n").slice(0, 1000);
}

/** First line (max 72 chars) as the subject, then a blank line and the rest. */
export function commitMessage(message: string): string[] {
  const lines = message.replace(/\r\n?/g, "\n").trim().split("\n");
  const first = lines[0]?.trim() || "checkpoint";
  const rest = lines.slice(1).join("\n").trim();
  if (first.length <= 72) return rest ? [first, rest] : [first];
  const body = [first, rest].filter(Boolean).join("\n\n");
  return [`${first.slice(0, 71)}…`, body];
}

/**
 * Commits on `head` after baseCommit, newest first, with the files each one touched. `gitDir` may be
 * the bare cache: it shares refs with every worktree, and it is still there when a worktree is gone.
 */
export async function listCheckpoints(opts: { gitDir: string; baseCommit: string; head: string }): Promise<CheckpointEntry[]> {
  if (!isSha(opts.baseCommit)) throw badRequest(`baseCommit must be a full sha`);
  const out = await gitAt(opts.gitDir).raw([
    "log",
    "--first-parent",
    "-M",
    "--name-only",
    "-z",
    "--format=%x1e%H%x1f%cI%x1f%B%x1f",
    "--end-of-options",
    `${opts.baseCommit}..${opts.head}`,
    "--",
  ]);
  return out
    .split("\x1e")
    .filter(Boolean)
    .map((record) => {
      const [sha = "", createdAt = "", message = "", names = ""] = record.split("\x1f");
      const files = names.split("\0").map((f) => f.trim()).filter(Boolean);
      return { sha, message: message.trim(), files, filesChanged: files.length, createdAt };
    });
}

/** No staged, unstaged, or untracked (not ignored) changes. */
export async function isClean(worktree: string): Promise<boolean> {
  return (await gitAt(worktree).raw(["status", "--porcelain"])) === "";
}
