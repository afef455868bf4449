import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { parseBoxEnv } from "../../box/env.ts";
import { decryptSecret, encryptSecret } from "../../worker/auth/crypto.ts";
import { vapidConfig } from "../../worker/push/config.ts";
import type { Env } from "../../worker/env.ts";

// scripts/secrets-generate.ts, read back the way README's Deploy section uses it (sourced by sh), and each
// value handed to the code that will parse it in production.
const root = fileURLToPath(new URL("../..", import.meta.url));
const NAMES = ["BOX_TOKEN", "SESSION_SECRET", "VAPID_PRIVATE_KEY", "VAPID_PUBLIC_KEY"] as const;
type Secrets = Record<(typeof NAMES)[number], string>;
const temps: string[] = [];
afterAll(async () => {
  for (const dir of temps) await rm(dir, { recursive: true, force: true });
});

async function generate(): Promise<Secrets> {
  const { stdout } = await execa("npx", ["tsx", "scripts/secrets-generate.ts"], { cwd: root });
  const dir = await mkdtemp(path.join(os.tmpdir(), "ocweb-secrets-"));
  temps.push(dir);
  const file = path.join(dir, "deploy.env");
  await writeFile(file, stdout);
  const echo = NAMES.map((n) => `printf '%s\\n' "$${n}"`).join("; ");
  const sourced = await execa("sh", ["-c", `set -a; . "$0"; set +a; ${echo}`, file], { env: {}, extendEnv: false });
  const values = sourced.stdout.split("\n");
  expect(values).toHaveLength(NAMES.length);
  for (const line of stdout.split("\n")) expect(line).toMatch(/^(#.*|[A-Z_]+='[^']+')$/);
  return Object.fromEntries(NAMES.map((n, i) => [n, values[i]!])) as Secrets;
}

describe("npm run secrets:generate", () => {
  it("prints a BOX_TOKEN the box accepts", async () => {
    const { BOX_TOKEN } = await generate();
    expect(BOX_TOKEN).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(parseBoxEnv({ BOX_TOKEN, OCWEB_DATA: os.tmpdir() }).token).toBe(BOX_TOKEN);
  });

  it("prints a SESSION_SECRET the worker encrypts GitHub tokens with", async () => {
    const { SESSION_SECRET } = await generate();
    expect(SESSION_SECRET).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await decryptSecret(SESSION_SECRET, await encryptSecret(SESSION_SECRET, "gho_example"))).toBe("gho_example");
  });

  it("prints a VAPID key pair the worker's push config accepts, public key included", async () => {
    const s = await generate();
    const env = { VAPID_PRIVATE_KEY: s.VAPID_PRIVATE_KEY, VAPID_PUBLIC_KEY: s.VAPID_PUBLIC_KEY, VAPID_SUBJECT: "mailto:me@example.org" } as Env;
    const config = vapidConfig(env);
    expect(config.publicKey).toBe(s.VAPID_PUBLIC_KEY);
    expect(vapidConfig({ ...env, VAPID_PUBLIC_KEY: undefined }).publicKey).toBe(s.VAPID_PUBLIC_KEY);
  });

  it("makes fresh values on every run", async () => {
    const [a, b] = [await generate(), await generate()];
    for (const name of NAMES) expect(a[name]).not.toBe(b[name]);
  });
});
