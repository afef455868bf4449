import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { makeRemote } from "../helpers/git-fixture.ts";
import { startTestBox } from "../helpers/box-harness.ts";

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, "utf8"));
  } catch {
    return false;
  }
};
const spawned: number[] = [];
afterAll(() => {
  for (const pid of spawned) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone
    }
  }
});

/** A long-lived stand-in whose command line has "serve" in it, detached so it outlives nothing of ours. */
function serveLike(cwd: string): number {
  mkdirSync(cwd, { recursive: true });
  const child = execa("node", ["-e", "setInterval(() => {}, 1000)", "serve"], { cwd, detached: true, stdio: "ignore", reject: false });
  child.unref();
  spawned.push(child.pid!);
  return child.pid!;
}

describe("boot after the box was killed", () => {
  it("kills the opencode left running on this data dir, and nothing else", async () => {
    const remote = await makeRemote({ owner: "acme", name: "stale" });
    const dataDir = mkdtempSync(path.join(os.tmpdir(), "ocweb-box-"));
    const other = mkdtempSync(path.join(os.tmpdir(), "ocweb-other-"));
    const leftover = serveLike(path.join(dataDir, "opencode", "default-instance"));
    const unrelated = serveLike(other);
    expect(alive(leftover)).toBe(true);

    const box = await startTestBox({ baseUrl: remote.baseUrl, dataDir });
    try {
      const deadline = Date.now() + 5_000;
      while (alive(leftover) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(alive(leftover)).toBe(false);
      expect(alive(unrelated)).toBe(true);
      expect(box.lines.join("\n")).toContain(`killed opencode left from an earlier run: pid ${leftover}`);
      expect((await box.call("GET", "/healthz")).json).toMatchObject({ ok: true, opencode: { up: true } });
    } finally {
      await box.dispose();
      await remote.cleanup();
      rmSync(other, { recursive: true, force: true });
    }
  });
});
