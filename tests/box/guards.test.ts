import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeRemote } from "../helpers/git-fixture.ts";
import { newChatId, startTestBox, type BoxHarness } from "../helpers/box-harness.ts";

let remote: Awaited<ReturnType<typeof makeRemote>>;
let box: BoxHarness;
let chat: { chatId: string; worktree: string; sessionId: string };

beforeAll(async () => {
  remote = await makeRemote({ owner: "acme", name: "guarded" });
  box = await startTestBox({ baseUrl: remote.baseUrl });
  chat = (await box.call("POST", "/mgmt/chats", { chatId: newChatId(), repo: "acme/guarded" })).json as typeof chat;
});
afterAll(async () => {
  await box?.dispose();
  await remote?.cleanup();
});

const sample: Record<string, string> = { chatId: "01JABCDEFGHJKMNPQRSTVWXYZ0", owner: "acme", name: "guarded", pid: "999999" };

describe("auth", () => {
  it("every route but /healthz answers 401 without the token or with a wrong one", async () => {
    const routes = box.box.app.routes.filter((r) => r.method !== "ALL" || r.path.startsWith("/oc"));
    const paths = [...new Set(routes.map((r) => `${r.method} ${r.path}`))].filter((r) => r !== "GET /healthz");
    expect(paths.length).toBeGreaterThan(15);
    for (const route of paths) {
      const [method, pattern] = route.split(" ") as [string, string];
      const path = pattern.replace(/:(\w+)/g, (_, k: string) => sample[k] ?? "x").replace("/*", "/session");
      const verb = method === "ALL" ? "GET" : method;
      for (const authorization of [undefined, "Bearer wrong-token-wrong-token-wrong-token", "Basic dGVzdA=="]) {
        const res = await fetch(box.url + path, { method: verb, headers: authorization ? { authorization } : {} });
        expect(res.status, `${verb} ${path} with ${authorization}`).toBe(401);
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe("unauthorized");
      }
    }
  });

  it("/healthz is open and tells no secrets", async () => {
    const res = await fetch(`${box.url}/healthz`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).not.toContain(box.box.supervisor.password);
    expect(JSON.parse(text)).toEqual({ ok: true, opencode: { up: true, version: "1.18.33" } });
  });
});

describe("the /oc pass-through", () => {
  it("refuses the dangerous routes with 403", async () => {
    const dir = encodeURIComponent(chat.worktree);
    const refused = [
      ["POST", "/oc/global/dispose"],
      ["POST", "/oc/global/upgrade"],
      ["POST", `/oc/instance/dispose?directory=${dir}`],
      ["PATCH", `/oc/config?directory=${dir}`],
      ["PATCH", "/oc/global/config"],
      ["GET", "/oc/global/config"],
      ["GET", `/oc/pty?directory=${dir}`],
      ["POST", `/oc/pty?directory=${dir}`],
      ["PUT", "/oc/auth/anthropic"],
      ["POST", `/oc/mcp?directory=${dir}`],
      ["POST", `/oc/experimental/worktree?directory=${dir}`],
    ];
    for (const [method, path] of refused) {
      const res = await box.call(method!, path!, method === "GET" ? undefined : {});
      expect(res.status, `${method} ${path}`).toBe(403);
    }
  });

  it("refuses foreign directories, by query or header, and directory-less instance routes", async () => {
    expect((await box.call("GET", "/oc/session?directory=%2Ftmp")).status).toBe(403);
    expect((await box.call("GET", "/oc/file?path=.", undefined, { "x-opencode-directory": "%2F" })).status).toBe(403);
    expect((await box.call("GET", `/oc/session?directory=${encodeURIComponent(chat.worktree + "/..")}`)).status).toBe(403);
    expect((await box.call("POST", "/oc/session", {})).status).toBe(403);
    expect((await box.call("GET", "/oc/experimental/session")).status).toBe(403);
    const mismatch = await box.call("GET", `/oc/session?directory=${encodeURIComponent(chat.worktree)}`, undefined, { "x-opencode-directory": "%2Ftmp" });
    expect(mismatch.status).toBe(400);
  });

  it("refuses a session that lives outside the chat worktrees", async () => {
    const sup = box.box.supervisor;
    const foreign = await fetch(`${sup.url}/session?directory=${encodeURIComponent(box.dataDir)}`, {
      method: "POST",
      headers: { authorization: sup.authHeader, "content-type": "application/json" },
      body: "{}",
    });
    const { id } = (await foreign.json()) as { id: string };
    expect((await box.call("GET", `/oc/session/${id}/message`)).status).toBe(403);
    expect((await box.call("GET", `/oc/session/${chat.sessionId}/message`)).status).toBe(200);
  });

  it("strips auth_token and workspace, and lets a chat's own directory through", async () => {
    const res = await box.call("GET", `/oc/session?directory=${encodeURIComponent(chat.worktree)}&workspace=wrk_evil&auth_token=abc`);
    expect(res.status).toBe(200);
    expect((res.json as Array<{ id: string }>).map((s) => s.id)).toContain(chat.sessionId);
  });

  it("lists providers without their keys", async () => {
    const res = await box.call("GET", "/oc/config/providers");
    expect(res.status).toBe(200);
    expect(res.text).toContain("ocweb-demo");
    expect(res.text).not.toMatch(/"apiKey"|"key"/);
  });

  it("answers HEAD and OPTIONS on the provider listings without a 500 (they have no body to redact)", async () => {
    for (const method of ["HEAD", "OPTIONS"]) {
      for (const path of ["/oc/provider", "/oc/config/providers"].map((p) => `${p}?directory=${encodeURIComponent(chat.worktree)}`)) {
        const res = await box.call(method, path);
        expect(res.status, `${method} ${path}`).toBeLessThan(500);
      }
    }
  });

  it("answers 400 to an id not of opencode's shape, and to a file outside the worktree, before opencode can 500", async () => {
    const dir = `directory=${encodeURIComponent(chat.worktree)}`;
    const s = chat.sessionId;
    const cases = [
      `/oc/session/find?${dir}`,
      `/oc/session/${s}/message/nope?${dir}`,
      `/oc/session/${s}/message/msg_x/part/nope?${dir}`,
      `/oc/session/${s}/permissions/nope?${dir}`,
      `/oc/file/content?path=%2Fetc%2Fpasswd&${dir}`,
      `/oc/file?path=src%2F..%2F..%2F..&${dir}`,
    ];
    for (const path of cases) {
      const res = await box.call("GET", path);
      expect(res.status, path).toBe(400);
      expect((res.json as { error: { message: string } }).error.message, path).toBeTruthy();
    }
    expect((await box.call("GET", `/oc/session/status?${dir}`)).status).toBe(200);
    expect((await box.call("GET", `/oc/file/content?path=README.md&${dir}`)).status).toBe(200);
  });

  it("rejects traversal in the path", async () => {
    for (const path of ["/oc/%2e%2e/mgmt/chats", "/oc/session/%2F..%2Fglobal", "/oc/global%2Fdispose"]) {
      const res = await box.call("POST", path, {});
      expect([400, 403], path).toContain(res.status);
    }
  });
});

describe("names that could become options or paths", () => {
  it("answers 400 with a message for bad repo names, chat ids and bases", async () => {
    const bad: Array<[string, string, unknown]> = [
      ["POST", "/mgmt/repos/clone", { repo: "../etc" }],
      ["POST", "/mgmt/repos/clone", { repo: "--upload-pack=touch /tmp/pwned/x" }],
      ["POST", "/mgmt/repos/clone", { repo: "acme/-oops" }],
      ["POST", "/mgmt/repos/clone", { repo: "acme/widgets.git" }],
      ["POST", "/mgmt/repos/clone", { repo: "acme/wid\u0000gets" }],
      ["POST", "/mgmt/repos/clone", { repo: "ácme/widgets" }],
      ["POST", "/mgmt/chats", { chatId: "lowercase0000000000000000x", repo: "acme/guarded" }],
      ["POST", "/mgmt/chats", { chatId: "../../../../../../../etc/x", repo: "acme/guarded" }],
      ["POST", "/mgmt/chats", { chatId: newChatId(), repo: "acme/guarded", base: "--orphan" }],
      ["POST", "/mgmt/chats", { chatId: newChatId(), repo: "acme/guarded", base: "../../x" }],
      ["POST", "/mgmt/chats", { chatId: newChatId(), repo: "acme/guarded", base: "main;rm -rf /" }],
      ["GET", "/mgmt/chats/..%2F..%2Fetc", undefined],
      ["DELETE", "/mgmt/repos/acme/..", undefined],
      ["POST", "/mgmt/processes/1/kill", undefined],
    ];
    for (const [method, path, body] of bad) {
      const res = await box.call(method, path, body);
      expect(res.status, `${method} ${path} ${JSON.stringify(body)}`).toBeGreaterThanOrEqual(400);
      expect(res.status, `${method} ${path} ${JSON.stringify(body)}`).toBeLessThan(500);
      expect((res.json as { error: { message: string } }).error.message.length).toBeGreaterThan(0);
    }
  });

  it("a missing base branch is a 400, a missing repo a 404", async () => {
    expect((await box.call("POST", "/mgmt/chats", { chatId: newChatId(), repo: "acme/guarded", base: "nope" })).status).toBe(400);
    expect((await box.call("POST", "/mgmt/chats", { chatId: newChatId(), repo: "acme/missing" })).status).toBe(404);
  });
  it("answers 400 for malformed JSON and 413 for a huge body (last: the server drops that connection)", async () => {
    const malformed = await fetch(`${box.url}/mgmt/chats`, {
      method: "POST",
      headers: { authorization: `Bearer ${"test-token-0123456789-abcdefghijklmnop"}`, "content-type": "application/json" },
      body: "{not json",
    });
    expect(malformed.status).toBe(400);
    const huge = await box.call("POST", "/mgmt/repos/clone", { repo: "a/b", pad: "x".repeat(200_000) });
    expect(huge.status).toBe(413);
  });
});
