import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "smol-toml";
import { unstable_readConfig } from "wrangler";
import { describe, expect, it } from "vitest";

// README's Deploy section is the only guide a newcomer gets: its commands are held against the repo they drive.
const root = fileURLToPath(new URL("../..", import.meta.url));
const read = (file: string) => readFileSync(path.join(root, file), "utf8");
const readme = read("README.md");
const deploy = readme.slice(readme.indexOf("\n## Deploy"), readme.indexOf("\n## Troubleshooting"));
const guide = readme.slice(readme.indexOf("\n## Deploy"), readme.indexOf("\n## Benchmarks"));
const shell = [...deploy.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!).join("\n");
const scripts = (JSON.parse(read("package.json")) as { scripts: Record<string, string> }).scripts;
const fly = parse(read("fly.toml")) as { mounts: { source: string }; env: Record<string, string> };
const wrangler = unstable_readConfig({ config: path.join(root, "wrangler.toml") }, { hideWarnings: true }) as {
  assets?: { directory?: string };
  secrets?: { required?: string[] };
};
/** What scripts/secrets-generate.ts prints, then every `echo "NAME='…'" >> .data/deploy.env` of the guide. */
const generated = [...read("scripts/secrets-generate.ts").matchAll(/`([A-Z_]+)='\$\{/g)].map((m) => m[1]!);
const collected = [...generated, ...[...shell.matchAll(/echo "([A-Z_]+)='.*>> \.data\/deploy\.env/g)].map((m) => m[1]!)];

describe("README, Deploy", () => {
  it("runs only npm scripts that exist", () => {
    const used = [...readme.matchAll(/npm run (?:-s |--silent )?([a-z][\w:-]*)/g)].map((m) => m[1]!);
    expect(used).toEqual(expect.arrayContaining(["secrets:generate", "db:migrate", "check:deploy"]));
    for (const name of used) expect(scripts, `npm run ${name}`).toHaveProperty([name]);
  });

  it("collects every value into .data/deploy.env before a command reads it back", () => {
    expect(generated).toEqual(["BOX_TOKEN", "SESSION_SECRET", "VAPID_PRIVATE_KEY", "VAPID_PUBLIC_KEY"]);
    const uses = [...guide.matchAll(/\$\{?#?([A-Z][A-Z0-9_]+)/g)];
    expect(new Set(uses.map((m) => m[1])).size).toBeGreaterThanOrEqual(5);
    for (const use of uses) {
      const name = use[1]!;
      if (generated.includes(name)) continue;
      const collectedAt = guide.indexOf(`echo "${name}='`);
      expect(collectedAt, `$${name} is never collected`).toBeGreaterThan(-1);
      expect(collectedAt, `$${name} is read before it is collected`).toBeLessThan(use.index);
    }
  });

  it("puts exactly the worker's required secrets, all collected", () => {
    const loop = /for name in ([\s\S]*?); do\n\s*printenv "\$name" \| npx wrangler secret put "\$name"/.exec(shell);
    const names = loop![1]!.split(/[\s\\]+/).filter(Boolean);
    expect(new Set(names)).toEqual(new Set(wrangler.secrets?.required));
    for (const name of names) expect(collected, name).toContain(name);
  });

  it("gives the box its token, the tunnel's, the worker's address and GitHub's token", () => {
    const set = /fly secrets set --stage ([\s\S]*?)\nfly deploy/.exec(shell)?.[1] ?? "";
    const names = [...set.matchAll(/([A-Z_]+)=/g)].map((m) => m[1]!);
    expect(names).toEqual(expect.arrayContaining(["BOX_TOKEN", "TUNNEL_TOKEN", "WORKER_URL", "GITHUB_TOKEN"]));
    expect(names.some((n) => n.endsWith("_API_KEY"))).toBe(true);
  });

  it("creates fly.toml's volume and deploys a single Machine", () => {
    expect(shell).toContain(`fly volumes create ${fly.mounts.source} `);
    expect(shell).toContain("fly deploy --ha=false");
    expect(shell).toContain("fly launch --no-deploy --copy-config");
  });

  it("points the tunnel at the box's port, and GitHub at the worker's callback route", () => {
    expect(deploy).toContain(`URL \`127.0.0.1:${fly.env.BOX_PORT}\``);
    expect(deploy).toContain("/auth/github/callback");
    expect(read("worker/auth/routes.ts")).toContain("/auth/github/callback`");
  });

  it("builds the UI into the assets directory before deploying the worker", () => {
    const build = shell.indexOf("npx vite build --config ui/vite.config.ts");
    expect(build).toBeGreaterThan(-1);
    expect(build).toBeLessThan(shell.indexOf("npx wrangler deploy"));
    expect(read("ui/vite.config.ts")).toMatch(/outDir|dist/);
    expect(wrangler.assets?.directory).toBe("ui/dist");
  });
});
