import { cp, mkdtemp, readFile, rm, symlink } from "node:fs/promises";
import { existsSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../helpers/scratch-opencode.ts";
import { waitFor } from "../helpers/wait-for.ts";

// No Docker here: the Dockerfile is read instruction by instruction, and its build and run steps are replayed
// with the files it copies, laid out as the image lays them out.
const root = fileURLToPath(new URL("../..", import.meta.url));
const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as { scripts: Record<string, string>; dependencies: Record<string, string> };
type Instruction = { op: string; args: string };

function instructions(text: string): Instruction[] {
  const logical = text.replace(/\\\n/g, " ").split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
  return logical.map((line) => {
    const [op = "", ...rest] = line.split(/\s+/);
    return { op: op.toUpperCase(), args: rest.join(" ") };
  });
}

function stages(list: Instruction[]) {
  const out: { from: string; name?: string; body: Instruction[] }[] = [];
  for (const i of list) {
    if (i.op === "FROM") {
      const [image = "", , name] = i.args.split(" ");
      out.push({ from: image, name, body: [] });
    } else out.at(-1)?.body.push(i);
  }
  return out;
}

const dockerfile = stages(instructions(readFileSync(path.join(root, "Dockerfile"), "utf8")));
const final = dockerfile.at(-1)!;
const stage = (name: string) => dockerfile.find((s) => s.name === name)!;
const args = (s: { body: Instruction[] }, op: string) => s.body.filter((i) => i.op === op).map((i) => i.args);
const env = Object.fromEntries(args(final, "ENV").flatMap((a) => a.split(" ").map((kv) => kv.split("=") as [string, string])));
/** Sources of a stage's COPY instructions that read the build context (not another stage). */
const copiesOf = (s: { body: Instruction[] }) => args(s, "COPY").filter((a) => !a.startsWith("--from")).flatMap((a) => a.split(" ").slice(0, -1));
const contextCopies = dockerfile.flatMap(copiesOf);

describe("Dockerfile", () => {
  it("builds on Node 22 and installs git and ripgrep in the image", () => {
    for (const s of dockerfile) expect(s.from).toMatch(/^node:22(-|$)/);
    const install = args(final, "RUN").find((r) => r.includes("apt-get install"));
    expect(install?.split(" ")).toEqual(expect.arrayContaining(["git", "ripgrep"]));
  });

  it("takes opencode from npm, pinned by the lockfile, as a runtime dependency", () => {
    expect(contextCopies).toEqual(expect.arrayContaining(["package.json", "package-lock.json"]));
    expect(args(stage("build"), "RUN").some((r) => r.startsWith("npm ci"))).toBe(true);
    expect(pkg.dependencies["opencode-ai"]).toMatch(/^\d+\.\d+\.\d+$/);
    expect(args(stage("build"), "RUN").some((r) => r.includes("npm run build:box") && r.includes("npm prune --omit=dev"))).toBe(true);
    expect(pkg.scripts["build:box"]).toContain("--outfile=dist/box.mjs");
  });

  it("installs cloudflared from Cloudflare's release, pinned by version and SHA-256", () => {
    const cf = stage("cloudflared");
    const argVals = Object.fromEntries(args(cf, "ARG").map((a) => a.split("=") as [string, string | undefined]));
    expect(argVals.CLOUDFLARED_VERSION).toMatch(/^\d{4}\.\d{1,2}\.\d+$/);
    expect(argVals.CLOUDFLARED_SHA256_AMD64).toMatch(/^[0-9a-f]{64}$/);
    expect(argVals.CLOUDFLARED_SHA256_ARM64).toMatch(/^[0-9a-f]{64}$/);
    const fetch = args(cf, "RUN").find((r) => r.includes("curl -fsSL"))!;
    expect(fetch).toContain("https://github.com/cloudflare/cloudflared/releases/download/${CLOUDFLARED_VERSION}/cloudflared-linux-${arch}");
    expect(fetch).toMatch(/sha256sum -c/);
    expect(args(final, "COPY")).toContain("--from=cloudflared /cloudflared /usr/local/bin/cloudflared");
  });

  it("creates a non-root user that the entrypoint hands the volume to", async () => {
    const user = args(final, "RUN").find((r) => r.includes("useradd"))!;
    const uid = Number(/--uid (\d+)/.exec(user)?.[1]);
    expect(uid).toBeGreaterThan(999);
    expect(user).toMatch(/ ocweb$/);
    expect(env.OCWEB_USER).toBe("ocweb");
    // A USER line would start the entrypoint unprivileged, unable to take over the root-owned Fly volume.
    expect(args(final, "USER")).toEqual([]);
    const entrypoint = await readFile(path.join(root, "docker/entrypoint.sh"), "utf8");
    expect(entrypoint).toMatch(/chown -R "\$uid:\$gid" "\$OCWEB_DATA"/);
    expect(entrypoint).toMatch(/drop="setpriv --reuid=\$uid/);
  });

  it("keeps state on /vol and listens where Fly's health check and the tunnel reach it", () => {
    expect(env).toMatchObject({ OCWEB_DATA: "/vol", BOX_HOST: "0.0.0.0", BOX_PORT: "8790" });
    const health = args(final, "HEALTHCHECK")[0] ?? "";
    expect(health).toContain("/healthz");
    expect(health).toContain("process.env.BOX_PORT");
  });

  it("enters through docker/entrypoint.sh, which it copies where it runs it from", () => {
    expect(args(final, "WORKDIR")).toEqual(["/app"]);
    expect(args(final, "COPY")).toContain("docker/entrypoint.sh ./docker/entrypoint.sh");
    expect(args(final, "COPY")).toContain("--from=build /app/dist/box.mjs ./dist/box.mjs");
    expect(args(final, "ENTRYPOINT")).toEqual(['["/bin/sh", "/app/docker/entrypoint.sh"]']);
  });

  it("copies only files that exist, and .dockerignore lets exactly those through", async () => {
    for (const src of contextCopies) expect(existsSync(path.join(root, src)), src).toBe(true);
    const ignore = (await readFile(path.join(root, ".dockerignore"), "utf8")).split("\n").filter((l) => l && !l.startsWith("#"));
    expect(ignore[0]).toBe("*");
    const allowed = ignore.filter((l) => l.startsWith("!")).map((l) => l.slice(1));
    expect(new Set(allowed)).toEqual(new Set(contextCopies.map((src) => src.split("/")[0])));
  });
});

describe("the image's files, laid out as in the image", () => {
  const dirs: string[] = [];
  let app = "";
  let bundle = "";
  beforeAll(async () => {
    // The build stage: its COPYs, `npm run build:box` (node_modules stands for `npm ci`).
    const build = await mkdtemp(path.join(os.tmpdir(), "ocweb-image-build-"));
    dirs.push(build);
    for (const src of copiesOf(stage("build"))) await cp(path.join(root, src), path.join(build, src), { recursive: true });
    await symlink(path.join(root, "node_modules"), path.join(build, "node_modules"));
    await execa("npm", ["run", "--silent", "build:box"], { cwd: build });
    bundle = await readFile(path.join(build, "dist/box.mjs"), "utf8");
    // The final stage's /app: node_modules, the bundle and the entrypoint, nothing else.
    app = await mkdtemp(path.join(os.tmpdir(), "ocweb-image-app-"));
    dirs.push(app);
    await symlink(path.join(root, "node_modules"), path.join(app, "node_modules"));
    await cp(path.join(build, "dist/box.mjs"), path.join(app, "dist/box.mjs"));
    for (const src of copiesOf(final)) await cp(path.join(root, src), path.join(app, src), { recursive: true });
  });
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it("build the box from what the build stage copies, needing only runtime dependencies", async () => {
    const specifiers = [...bundle.matchAll(/(?:^import [^;]*?from |\bimport\()"([^"]+)"/gm)].map((m) => m[1]!);
    const packages = new Set(specifiers.filter((s) => !s.startsWith("node:")).map((s) => s.split("/").slice(0, s.startsWith("@") ? 2 : 1).join("/")));
    expect(packages.size).toBeGreaterThan(3);
    for (const name of packages) expect(pkg.dependencies, `${name} must survive npm prune --omit=dev`).toHaveProperty([name]);
  });

  it("start a box through the entrypoint (no tunnel) that answers /healthz and stops on SIGTERM", async () => {
    const data = await mkdtemp(path.join(os.tmpdir(), "ocweb-image-vol-"));
    dirs.push(data);
    const port = await freePort();
    const proc = execa("sh", [path.join(app, "docker/entrypoint.sh")], {
      env: { PATH: process.env.PATH, OCWEB_NO_TUNNEL: "1", OCWEB_USER: "root", OCWEB_DATA: data, BOX_TOKEN: "t".repeat(40), BOX_HOST: "127.0.0.1", BOX_PORT: String(port), OCWEB_DEMO_MODEL: "1" },
      extendEnv: false,
      reject: false,
      all: true,
    });
    try {
      const health = await waitFor("the box's /healthz with opencode up", async () => {
        const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(1000) }).catch(() => undefined);
        const body = res?.ok ? ((await res.json()) as { ok: boolean; opencode: { up: boolean } }) : undefined;
        return body?.opencode.up ? body : undefined;
      }, 45_000);
      expect(health.ok).toBe(true);
    } finally {
      proc.kill("SIGTERM");
    }
    const result = await proc;
    expect(result.exitCode, result.all).toBe(0);
    expect(existsSync(path.join(data, "opencode"))).toBe(true);
  });
});
