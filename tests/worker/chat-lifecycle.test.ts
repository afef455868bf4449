import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { git, makeRemote, type Remote } from "../helpers/git-fixture.ts";
import { startTestBox, TEST_TOKEN, type BoxHarness } from "../helpers/box-harness.ts";
import { githubSignIn, startGithubStandin, STANDIN_CLIENT_ID, STANDIN_CLIENT_SECRET, type GithubStandin } from "../helpers/github-standin.ts";
import { freePort } from "../helpers/scratch-opencode.ts";
import { startTestWorker, type TestWorker } from "../helpers/worker-harness.ts";
import { waitFor } from "../helpers/wait-for.ts";

type Chat = { id: string; repo: string; branch: string; status: string; error?: string; title?: string; muted: boolean; archived: boolean; sessionId?: string; directory?: string };
type ApiErrorBody = { error?: { code?: string; message?: string } };
type Message = { info: { role: string }; parts: Array<{ type: string; text?: string }> };

let remote: Remote;
let gh: GithubStandin;
let box: BoxHarness | undefined;
let worker: TestWorker;
let devCookie = "";
let boxPort = 0;
const chatsById: Record<string, Chat> = {};

const useSession = (cookie: string) => {
  worker.jar.clear();
  worker.jar.set("ocweb_session", cookie);
};
const getChat = async (id: string) => (await worker.json<{ chat: Chat }>(`/api/chats/${id}`)).body.chat;
const listIds = async (query = "") => {
  const res = await worker.json<{ chats: Chat[] }>(`/api/chats${query}`);
  expect(res.status, res.text).toBe(200);
  return res.body.chats.map((c) => c.id);
};
const patch = (id: string, body: unknown) => worker.json<{ chat: Chat }>(`/api/chats/${id}`, { method: "PATCH", body });
const checkpointsOf = async (id: string) =>
  (await worker.json<{ checkpoints: Array<{ sha: string; filesChanged: number }> }>(`/api/chats/${id}/checkpoints`)).body.checkpoints;

/** Creates a chat through the worker and waits until the box has it and the run (if any) is over. */
async function startChat(repo: string, text?: string): Promise<Chat> {
  const res = await worker.json<{ chat: Chat }>("/api/chats", { method: "POST", body: { repo, ...(text ? { prompt: { text } } : {}) } });
  expect(res.status, res.text).toBe(201);
  let seen: unknown;
  const chat = await waitFor(`chat ${res.body.chat.id} idle on the box`, async () => {
    const c = await getChat(res.body.chat.id);
    const prompts = (await worker.json<{ prompts: Array<{ state: string }> }>(`/api/chats/${c.id}/prompts`)).body.prompts;
    seen = { chat: c, prompts };
    if (c.status === "error") throw new Error(`chat ${c.id} failed: ${c.error ?? "no error"}`);
    return c.sessionId && c.status === "idle" && prompts.every((p) => p.state === "sent") ? c : undefined;
  }, 40_000, () => seen);
  chatsById[chat.id] = chat;
  return chat;
}

/** The scripted model got a tool-enabled request (a run, not a title) whose prompt holds `text`. */
const modelAsked = (text: string) =>
  (box?.box.demo?.requests ?? []).some((r) => (r.tools?.length ?? 0) > 0 && r.messages.some((m) => m.role === "user" && JSON.stringify(m.content).includes(text)));

function expectError(res: { status: number; text: string; body: unknown }, statuses: number[], label = "") {
  expect(statuses, `${label} answered ${res.status}: ${res.text}`).toContain(res.status);
  const message = (res.body as ApiErrorBody | undefined)?.error?.message;
  expect(typeof message, `${label}: ${res.text}`).toBe("string");
  expect(message!.trim(), label).not.toBe("");
}

beforeAll(async () => {
  remote = await makeRemote({ owner: "acme", name: "app", files: { "README.md": "# app\n" } });
  await git(remote.root, ["clone", "--bare", "--quiet", "--", remote.remotePath, path.join(remote.root, "acme", "lib.git")]);
  gh = await startGithubStandin({
    users: [{ id: 1001, login: "alice", name: "Alice A." }],
    repos: { alice: [{ full_name: "acme/app", private: false, default_branch: "main", pushed_at: new Date().toISOString() }] },
  });
  const workerPort = await freePort();
  boxPort = await freePort();
  box = await startTestBox({ baseUrl: remote.baseUrl, port: boxPort, env: { WORKER_URL: `http://127.0.0.1:${workerPort}` } });
  worker = await startTestWorker({
    port: workerPort,
    boxUrl: box.url,
    boxToken: TEST_TOKEN,
    bindings: {
      DEV_LOGIN: "1",
      GITHUB_CLIENT_ID: STANDIN_CLIENT_ID,
      GITHUB_CLIENT_SECRET: STANDIN_CLIENT_SECRET,
      GITHUB_API_URL: gh.url,
      GITHUB_OAUTH_URL: gh.url,
      ALLOWED_GITHUB_USERS: "alice",
    },
  });
  await worker.signInDev("dev");
  devCookie = worker.jar.get("ocweb_session")!;
});
afterAll(async () => {
  await worker?.dispose();
  await box?.dispose();
  await gh?.close();
  await remote?.cleanup();
});

describe("PATCH /api/chats/:id", () => {
  it("renames, mutes, archives (hidden from the default list, shown with ?archived=true) and unarchives", async () => {
    const chat = await startChat("acme/app");
    chatsById.main = chat;
    const renamed = await patch(chat.id, { title: "  Fix the login bug  " });
    expect(renamed.status, renamed.text).toBe(200);
    expect(renamed.body.chat.title).toBe("Fix the login bug");
    expect((await getChat(chat.id)).title).toBe("Fix the login bug");

    const muted = await patch(chat.id, { muted: true });
    expect(muted.body.chat).toMatchObject({ muted: true, title: "Fix the login bug", archived: false });

    const archived = await patch(chat.id, { archived: true });
    expect(archived.body.chat).toMatchObject({ archived: true, muted: true });
    expect(await listIds()).not.toContain(chat.id);
    expect(await listIds("?archived=true")).toContain(chat.id);
    await waitFor("the box to archive it too", async () => ((await box!.call("GET", `/mgmt/chats/${chat.id}`)).json as { archived?: boolean })?.archived === true || undefined);

    const back = await patch(chat.id, { archived: false, muted: false });
    expect(back.body.chat).toMatchObject({ archived: false, muted: false });
    expect(await listIds()).toContain(chat.id);
    expect(await listIds("?archived=true")).not.toContain(chat.id);
  });
});

describe("GET /api/chats filters", () => {
  it("?repo= and ?status= narrow the list", async () => {
    const lib = await startChat("acme/lib");
    const main = chatsById.main!;
    expect(await listIds("?repo=acme/lib")).toEqual([lib.id]);
    expect(await listIds("?repo=acme/app")).toContain(main.id);
    expect(await listIds("?repo=acme/app")).not.toContain(lib.id);
    expect(await listIds("?repo=acme/nothing")).toEqual([]);
    expect(await listIds("?status=idle")).toEqual(expect.arrayContaining([main.id, lib.id]));
    expect(await listIds("?status=busy")).toEqual([]);
    expect(await listIds("?status=needs_you")).toEqual([]);
    expect(await listIds("?status=idle&repo=acme/lib")).toEqual([lib.id]);
  });
});

describe("POST /api/chats/:id/abort", () => {
  it("stops a busy run: the chat leaves busy soon and the rest of the script never runs", async () => {
    const res = await worker.json<{ chat: Chat }>("/api/chats", { method: "POST", body: { repo: "acme/app", prompt: { text: "sleep: 20000\nsay: too late" } } });
    const id = res.body.chat.id;
    const busy = await waitFor("busy", async () => {
      const c = await getChat(id);
      return c.status === "busy" && c.sessionId ? c : undefined;
    });
    expect(await listIds("?status=busy")).toEqual([id]);
    // Abort once the model is really streaming; an abort in the first instants is the separate case at the end.
    await waitFor("the model to be asked", async () => (modelAsked("sleep: 20000") ? true : undefined));
    const aborted = await worker.fetch(`/api/chats/${id}/abort`, { method: "POST" });
    expect(aborted.status, await aborted.text()).toBe(204);
    const after = await waitFor("no longer busy", async () => {
      const c = await getChat(id);
      return c.status !== "busy" ? c : undefined;
    }, 10_000);
    expect(["idle", "error"]).toContain(after.status);
    const messages = await worker.json<Message[]>(`/api/box/oc/session/${busy.sessionId}/message`);
    expect(messages.status).toBe(200);
    const replies = messages.body.filter((m) => m.info.role === "assistant").flatMap((m) => m.parts);
    expect(replies.some((p) => p.text?.includes("too late"))).toBe(false);
  });
});

describe("GET /api/chats/:id/checkpoints, then DELETE /api/chats/:id", () => {
  it("lists the checkpoint the run made: a real commit on the chat branch holding the file", async () => {
    const chat = await startChat("acme/app", "write a.txt: x\nsay: wrote it");
    chatsById.wrote = chat;
    const list = await waitFor("a checkpoint", async () => ((await checkpointsOf(chat.id)).length > 0 ? checkpointsOf(chat.id) : undefined));
    expect(list[0]!.sha).toMatch(/^[0-9a-f]{40}$/);
    expect(list[0]!.filesChanged).toBeGreaterThanOrEqual(1);
    expect(await git(chat.directory!, ["show", `${list[0]!.sha}:a.txt`])).toBe("x");
    expect((await git(chat.directory!, ["rev-parse", "--verify", `refs/heads/${chat.branch}`])).trim()).toBe(list[0]!.sha);
  });

  it("deletes: 204, the box no longer has the chat, the worker answers 404, the pushed branch stays", async () => {
    const chat = chatsById.wrote!;
    const res = await worker.fetch(`/api/chats/${chat.id}`, { method: "DELETE" });
    expect(res.status, await res.text()).toBe(204);
    expect((await box!.call("GET", `/mgmt/chats/${chat.id}`)).status).toBe(404);
    expectError(await worker.json(`/api/chats/${chat.id}`), [404]);
    expectError(await worker.json(`/api/chats/${chat.id}`, { method: "DELETE" }), [404]);
    expect(await listIds()).not.toContain(chat.id);
    expect(await git(remote.remotePath, ["show", `refs/heads/${chat.branch}:a.txt`])).toBe("x");
  });
});

describe("bad input", () => {
  const valid = () => chatsById.main!.id;
  const cases: Array<[string, string, () => string, unknown]> = [
    ["empty prompt text", "POST", () => `/api/chats/${valid()}/prompts`, { text: "" }],
    ["blank prompt text", "POST", () => `/api/chats/${valid()}/prompts`, { text: " \n\t " }],
    ["a model without a slash (prompt)", "POST", () => `/api/chats/${valid()}/prompts`, { text: "hi", model: "gpt-4" }],
    ["a repo like ../x", "POST", () => "/api/chats", { repo: "../x" }],
    ["a repo without owner", "POST", () => "/api/chats", { repo: "app" }],
    ["a repo ending in .git", "POST", () => "/api/chats", { repo: "acme/app.git" }],
    ["a repo starting with -", "POST", () => "/api/chats", { repo: "-acme/app" }],
    ["a model without a slash (chat)", "POST", () => "/api/chats", { repo: "acme/app", model: "gpt-4" }],
    ["a base that is an option", "POST", () => "/api/chats", { repo: "acme/app", base: "--upload-pack=touch /tmp/x" }],
    ["a base with ..", "POST", () => "/api/chats", { repo: "acme/app", base: "main/../x" }],
    ["malformed JSON", "POST", () => "/api/chats", "{\"repo\":"],
    ["an unknown status filter", "GET", () => "/api/chats?status=sleeping", undefined],
    ["a bad repo filter", "GET", () => "/api/chats?repo=../x", undefined],
    ["a bad archived filter", "GET", () => "/api/chats?archived=yes", undefined],
    ["an empty title", "PATCH", () => `/api/chats/${valid()}`, { title: "   " }],
    ["a non-boolean archived", "PATCH", () => `/api/chats/${valid()}`, { archived: "yes" }],
    ["an empty PATCH", "PATCH", () => `/api/chats/${valid()}`, {}],
  ];

  it.each(cases)("%s → 400 with a message", async (label, method, route, body) => {
    const before = (await listIds()).length;
    expectError(await worker.json(route(), { method, body }), [400], label);
    expect((await listIds()).length).toBe(before);
  });

  const badIds = ["not-a-ulid", "01j9zxq4w7b2m5n8p3r6t0v1y4", "0".repeat(27), "0".repeat(25), "%2E%2E", "..%2F..%2Fetc", "01J9ZXQ4W7B2M5N8P3R6T0V1Y%00"];
  const idRoutes: Array<[string, (id: string) => string]> = [
    ["GET", (id) => `/api/chats/${id}`], ["PATCH", (id) => `/api/chats/${id}`], ["DELETE", (id) => `/api/chats/${id}`],
    ["GET", (id) => `/api/chats/${id}/prompts`], ["POST", (id) => `/api/chats/${id}/prompts`], ["POST", (id) => `/api/chats/${id}/abort`],
    ["GET", (id) => `/api/chats/${id}/diff`], ["GET", (id) => `/api/chats/${id}/checkpoints`], ["POST", (id) => `/api/chats/${id}/pr`],
  ];
  it.each(idRoutes)("%s a non-ULID or unknown id on %s → 400 or 404, never 5xx", async (method, route) => {
    for (const id of badIds) expectError(await worker.json(route(id), { method, body: method === "GET" ? undefined : { text: "hi", title: "t" } }), [400, 404], `${method} ${route(id)}`);
    expectError(await worker.json(route("01J9ZXQ4W7B2M5N8P3R6T0V1Y4"), { method, body: method === "GET" ? undefined : { text: "hi", title: "t" } }), [404], "unknown ULID");
  });
});

describe("POST /api/chats/:id/pr", () => {
  it("a dev-signed-in user (no GitHub token) gets 400 with a message", async () => {
    const res = await worker.json(`/api/chats/${chatsById.main!.id}/pr`, { method: "POST", body: {} });
    expectError(res, [400]);
    expect(res.text).toMatch(/GitHub/);
    expect(gh.pulls).toEqual([]);
  });

  it("a GitHub user gets a draft PR from ocweb/<id> into main, opened on GitHub as that user", async () => {
    const signedIn = await githubSignIn(worker, "alice");
    expect(signedIn.status).toBe(302);
    const chat = await startChat("acme/app", "write pr.txt: from ocweb\nsay: ready for review");
    await waitFor("a checkpoint", async () => ((await checkpointsOf(chat.id)).length > 0 ? true : undefined));
    const res = await worker.json<{ pr: { number: number; url: string } }>(`/api/chats/${chat.id}/pr`, { method: "POST", body: {} });
    expect(res.status, res.text).toBe(201);
    expect(res.body.pr).toEqual({ number: 1, url: "https://github.example/acme/app/pull/1" });
    expect(gh.pulls).toHaveLength(1);
    expect(gh.pulls[0]).toMatchObject({ repo: "acme/app", login: "alice", head: `ocweb/${chat.id}`, base: "main", draft: true });
    expect(await git(remote.remotePath, ["show", `refs/heads/ocweb/${chat.id}:pr.txt`])).toBe("from ocweb");

    const again = await worker.json(`/api/chats/${chat.id}/pr`, { method: "POST", body: {} });
    expectError(again, [409, 422], "a second PR for the same branch");
    useSession(devCookie);
    expectError(await worker.json(`/api/chats/${chat.id}/pr`, { method: "POST", body: {} }), [404], "another user's chat");
  });
});

describe("box down", () => {
  it("abort answers 503 with a message at once (no hang) and the list still answers from Turso", async () => {
    useSession(devCookie);
    await box!.dispose();
    box = undefined;
    const res = await worker.fetch(`/api/chats/${chatsById.main!.id}/abort`, { method: "POST", signal: AbortSignal.timeout(10_000) });
    const text = await res.text();
    expectError({ status: res.status, text, body: JSON.parse(text) }, [503], "abort while the box is down");
    const list = await worker.json<{ chats: Chat[]; box: string }>("/api/chats", { signal: AbortSignal.timeout(10_000) });
    expect(list.status).toBe(200);
    expect(list.body.box).toBe("unreachable");
    expect(list.body.chats.map((c) => c.id)).toContain(chatsById.main!.id);
  });
});

describe("abort right after the send, on a fresh opencode", () => {
  // opencode 1.18.33 loses an abort that arrives before its run loop starts (the box repeats it once the
  // run starts), and an abort while the first run loads the providers broke every later prompt with
  // "All fibers interrupted without error" (the box now loads them before opencode counts as up).
  it("stops the run at once, and later chats still run", async () => {
    await box?.dispose();
    box = await startTestBox({ baseUrl: remote.baseUrl, port: boxPort, env: { WORKER_URL: worker.url } });
    useSession(devCookie);
    const chat = await startChat("acme/app");
    const sent = await box.call("POST", `/mgmt/chats/${chat.id}/prompts`, { promptId: `early-${chat.id}`, text: "sleep: 20000\nsay: too late" });
    expect(sent.json).toMatchObject({ state: "sent" });
    expect((await box.call("POST", `/mgmt/chats/${chat.id}/abort`)).status).toBe(204);
    const after = await box.waitForChat(chat.id, (c) => c.status !== "busy", 10_000);
    expect(after.status).toBe("idle");
    expect((await startChat("acme/lib", "say: still working")).status).toBe("idle");
  });
});
