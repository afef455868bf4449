import { spawn } from "node:child_process";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { CloneCache } from "../../box/git/clone-cache.ts";
import { dataLayout } from "../../box/names.ts";

export type Remote = {
  baseUrl: string;
  root: string;
  remotePath: string;
  repo: string;
  cleanup(): Promise<void>;
};

const committer = "Fixture <fixture@example.com>";

/** The test process's env minus ambient GIT_* (hooks and CI set them), plus a fixed identity. */
export function gitEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("GIT_") || k.startsWith("GIT_SSL_")));
  return {
    ...env,
    LC_ALL: "C",
    GIT_TERMINAL_PROMPT: "0",
    GIT_AUTHOR_NAME: "Fixture",
    GIT_AUTHOR_EMAIL: "fixture@example.com",
    GIT_COMMITTER_NAME: "Fixture",
    GIT_COMMITTER_EMAIL: "fixture@example.com",
    ...extra,
  };
}

/** Runs git in `cwd` (independently of the code under test) and returns stdout; rejects with stderr. */
export function git(cwd: string, args: string[], opts: { input?: string; env?: Record<string, string> } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = opts.input === undefined ? "ignore" : "pipe";
    const child = spawn("git", args, { cwd, env: gitEnv(opts.env), stdio: [stdin, "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on("data", (b: Buffer) => out.push(b));
    child.stderr?.on("data", (b: Buffer) => err.push(b));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) return resolve(Buffer.concat(out).toString("utf8"));
      reject(new Error(`git ${args.join(" ")} (exit ${code}): ${Buffer.concat(err).toString("utf8")}`));
    });
    // A git that exits early closes stdin; the exit code reports the real failure.
    child.stdin?.on("error", () => undefined);
    child.stdin?.end(opts.input);
  });
}

/** A temp dir holding `<owner>/<name>.git`, a real bare repo with one commit (+ one per extra branch). */
export async function makeRemote(opts: {
  owner?: string;
  name?: string;
  files?: Record<string, string>;
  defaultBranch?: string;
  extraBranches?: string[];
  fileCount?: number;
} = {}): Promise<Remote> {
  const owner = opts.owner ?? "acme";
  const name = opts.name ?? "widget";
  const defaultBranch = opts.defaultBranch ?? "main";
  const root = await mkdtemp(path.join(os.tmpdir(), "ocweb-remote-"));
  const remotePath = path.join(root, owner, `${name}.git`);
  await mkdir(remotePath, { recursive: true });
  await git(remotePath, ["init", "--bare", "--quiet", `--initial-branch=${defaultBranch}`]);

  const files = opts.files ?? { "README.md": `# ${name}\n`, "src/index.ts": "export const answer = 42;\n" };
  const stream = [commitBlock(`refs/heads/${defaultBranch}`, "initial commit", { ...files, ...generated(opts.fileCount ?? 0) }, null, ":1")];
  for (const branch of opts.extraBranches ?? []) {
    const file = `branch-${branch.replace(/[^A-Za-z0-9._-]/g, "_")}.txt`;
    stream.push(commitBlock(`refs/heads/${branch}`, `work on ${branch}`, { [file]: `${branch}\n` }, ":1"));
  }
  await git(remotePath, ["fast-import", "--quiet"], { input: stream.join("") });
  return {
    baseUrl: pathToFileURL(root).href,
    root,
    remotePath,
    repo: `${owner}/${name}`,
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}

/** Simulates an upstream push: one commit on `branch` (default: the remote's HEAD); null deletes a file. */
export async function commitToRemote(
  remotePath: string,
  files: Record<string, string | null>,
  message: string,
  branch?: string,
): Promise<string> {
  const target = branch ?? (await git(remotePath, ["symbolic-ref", "--short", "HEAD"])).trim();
  const ref = `refs/heads/${target}`;
  const parent = await git(remotePath, ["rev-parse", "--verify", "--quiet", `${ref}^{commit}`]).catch(() =>
    git(remotePath, ["rev-parse", "--verify", "HEAD^{commit}"]),
  );
  await git(remotePath, ["fast-import", "--quiet"], { input: commitBlock(ref, message, files, parent.trim()) });
  return (await git(remotePath, ["rev-parse", "--verify", ref])).trim();
}

function commitBlock(ref: string, message: string, files: Record<string, string | null>, from: string | null, mark?: string) {
  const time = Math.floor(Date.now() / 1000);
  const lines = [`commit ${ref}`];
  if (mark) lines.push(`mark ${mark}`);
  lines.push(`committer ${committer} ${time} +0000`, data(message));
  if (from) lines.push(`from ${from}`);
  const ops = Object.entries(files).map(([file, content]) =>
    content === null ? `D ${file}` : `M 100644 inline ${file}\n${data(content)}`,
  );
  return `${[...lines, ...ops].join("\n")}\n\n`;
}

function data(content: string) {
  // fast-import accepts an optional LF after the payload; the join adds it.
  return `data ${Buffer.byteLength(content)}\n${content}`;
}

function generated(count: number): Record<string, string> {
  const files: Record<string, string> = {};
  for (let i = 0; i < count; i++) files[`gen/dir${i % 64}/sub${i % 7}/file${i}.txt`] = `file ${i}\n`;
  return files;
}

/** A remote, an empty box data dir and a CloneCache over it; their cleanup is pushed onto `cleanups`. */
export async function remoteWithCache(cleanups: Array<() => Promise<void>>, remoteOpts: Parameters<typeof makeRemote>[0] = {}) {
  const remote = await makeRemote(remoteOpts);
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "ocweb-data-"));
  cleanups.push(remote.cleanup, () => rm(dataDir, { recursive: true, force: true }));
  const layout = dataLayout(dataDir);
  return { remote, layout, repo: remote.repo, cache: new CloneCache({ layout, baseUrl: remote.baseUrl }) };
}
