import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";

const files: Record<string, string> = {
  "README.md": "# hello\n\nA tiny repo for trying ocweb offline.\n",
  "src/greet.js": "export function greet(name) {\n  return `Hello, ${name}!`;\n}\n",
  "package.json": '{ "name": "hello", "type": "module", "scripts": { "test": "node --test" } }\n',
};

/** A local bare repo `demo/hello.git` under root, so `npm run dev` works with no network. */
export async function ensureDevRemote(root: string): Promise<string> {
  const bare = path.join(root, "demo", "hello.git");
  if (existsSync(bare)) return `file://${root}`;
  const work = mkdtempSync(path.join(os.tmpdir(), "ocweb-seed-"));
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(work, name)), { recursive: true });
    writeFileSync(path.join(work, name), content);
  }
  const git = (...args: string[]) => execa("git", args, { cwd: work });
  await git("init", "-q", "-b", "main");
  await git("add", "-A");
  await git("-c", "user.name=ocweb", "-c", "user.email=ocweb@users.noreply.local", "commit", "-q", "-m", "hello");
  mkdirSync(path.dirname(bare), { recursive: true });
  await execa("git", ["clone", "-q", "--bare", "--", work, bare]);
  rmSync(work, { recursive: true, force: true });
  return `file://${root}`;
}
