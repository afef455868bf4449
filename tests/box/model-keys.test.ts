import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeRemote } from "../helpers/git-fixture.ts";
import { startTestBox, type BoxHarness } from "../helpers/box-harness.ts";

const KEY = "sk-ant-test-0000-do-not-leak-0000";
let remote: Awaited<ReturnType<typeof makeRemote>>;
let box: BoxHarness;

beforeAll(async () => {
  remote = await makeRemote({ owner: "acme", name: "keys" });
  box = await startTestBox({ baseUrl: remote.baseUrl, env: { ANTHROPIC_API_KEY: KEY } });
});
afterAll(async () => {
  await box?.dispose();
  await remote?.cleanup();
});

describe("model keys from the environment", () => {
  it("are pushed to opencode with PUT /auth/:id at boot", () => {
    const auth = JSON.parse(readFileSync(path.join(box.dataDir, "opencode", "data", "opencode", "auth.json"), "utf8"));
    expect(auth.anthropic).toEqual({ type: "api", key: KEY });
  });

  it("never come back through the box's answers or its log", async () => {
    for (const route of ["/oc/provider", "/oc/config/providers", "/healthz", "/mgmt/chats"]) {
      const res = await box.call("GET", route);
      expect(res.status, route).toBe(200);
      expect(res.text, route).not.toContain(KEY);
    }
    expect(box.lines.join("\n")).not.toContain(KEY);
    expect(box.lines.join("\n")).not.toContain(box.box.supervisor.password);
  });
});
