import { mkdtempSync, readdirSync, readlinkSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { makeRemote } from "../helpers/git-fixture.ts";
import { startTestBox } from "../helpers/box-harness.ts";

describe("serveBox", () => {
  it("fails with a clear message, and leaves no opencode behind, when its port is taken", async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", r));
    const port = (blocker.address() as AddressInfo).port;
    const remote = await makeRemote({ owner: "acme", name: "port" });
    const dataDir = mkdtempSync(path.join(os.tmpdir(), "ocweb-box-"));
    try {
      await expect(startTestBox({ baseUrl: remote.baseUrl, port, dataDir })).rejects.toThrow(`127.0.0.1:${port} is already in use`);
      const home = path.join(dataDir, "opencode", "default-instance");
      const survivors = readdirSync("/proc").filter((pid) => /^\d+$/.test(pid) && safeReadlink(`/proc/${pid}/cwd`) === home);
      expect(survivors).toEqual([]);
    } finally {
      blocker.close();
      await remote.cleanup();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

function safeReadlink(p: string): string {
  try {
    return readlinkSync(p);
  } catch {
    return "";
  }
}
