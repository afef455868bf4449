import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "smol-toml";
import { describe, expect, it } from "vitest";

// fly.toml cannot be deployed from here; it is parsed as TOML and held against the Dockerfile and entrypoint.
const root = fileURLToPath(new URL("../..", import.meta.url));
const read = (file: string) => readFileSync(path.join(root, file), "utf8");
const fly = parse(read("fly.toml")) as Record<string, unknown> & {
  env: Record<string, string>;
  mounts: { source: string; destination: string };
  checks: Record<string, { type: string; port: number; path: string; grace_period: string }>;
  restart: { policy: string }[];
  build: { dockerfile: string };
};
const dockerEnv = Object.fromEntries(
  [...read("Dockerfile").matchAll(/^ENV (.+)$/gm)].flatMap((m) => m[1]!.split(" ").map((kv) => kv.split("=") as [string, string])),
);
const seconds = (duration: unknown) => Number(/^(\d+)s$/.exec(String(duration))?.[1]);

describe("fly.toml", () => {
  it("names an app and builds the repo's Dockerfile", () => {
    expect(fly.app).toMatch(/^[a-z0-9-]+$/);
    expect(fly.primary_region).toMatch(/^[a-z]{3}$/);
    expect(existsSync(path.join(root, fly.build.dockerfile))).toBe(true);
  });

  it("has no public service: the tunnel is the only way in", () => {
    expect(fly).not.toHaveProperty("http_service");
    expect(fly).not.toHaveProperty("services");
  });

  it("keeps the one Machine running: no proxy to stop it, restarted whenever the entrypoint exits", () => {
    expect(fly.restart).toEqual([{ policy: "always" }]);
  });

  it("mounts the volume where the box keeps its state", () => {
    expect(fly.mounts.destination).toBe("/vol");
    expect(fly.env.OCWEB_DATA).toBe(fly.mounts.destination);
    expect(dockerEnv.OCWEB_DATA).toBe(fly.mounts.destination);
    expect(fly.mounts.source).toMatch(/^[a-z0-9_]+$/);
  });

  it("health-checks /healthz on the port the box listens on", () => {
    const checks = Object.values(fly.checks);
    expect(checks).toHaveLength(1);
    expect(checks[0]).toMatchObject({ type: "http", path: "/healthz", port: Number(fly.env.BOX_PORT) });
    expect(fly.env.BOX_PORT).toBe(dockerEnv.BOX_PORT);
    expect(fly.env.BOX_HOST).toBe("0.0.0.0");
    expect(seconds(checks[0]!.grace_period)).toBeGreaterThanOrEqual(30);
  });

  it("stops with SIGTERM and waits longer than the entrypoint's own stop timeout", () => {
    const entrypointTimeout = Number(/OCWEB_STOP_TIMEOUT:-(\d+)/.exec(read("docker/entrypoint.sh"))?.[1]);
    expect(fly.kill_signal).toBe("SIGTERM");
    expect(seconds(fly.kill_timeout)).toBeGreaterThan(entrypointTimeout);
  });
});
