import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser, newContext, PHONE, shot } from "../helpers/browser.ts";
import { waitFor } from "../helpers/wait-for.ts";
import { startFaultStack, type FaultStack } from "./fault-stack.ts";
import { checkChats, type Sent } from "./ledger-check.ts";

type Chat = { id: string; status: string; sessionId?: string; directory?: string };
type Kind = "opencode killed" | "box restarted" | "box unreachable" | "stream cut" | "client dropped" | "disk over budget";

/** How many of each fault, shuffled into one run (a fixed seed, so a failure replays). */
const PLAN: Record<Kind, number> = {
  "opencode killed": 8,
  "box restarted": 8,
  "box unreachable": 24,
  "stream cut": 24,
  "client dropped": 26,
  "disk over budget": 10,
};
const CHATS = 4;

let stack: FaultStack;
let browser: Awaited<ReturnType<typeof launchBrowser>>;
let ctx: BrowserContext;
let page: Page;
let chats: Chat[] = [];
const sent: Sent[] = [];
let nextId = 0;
let currentFault: Kind | "setup" = "setup";
const random = seeded(20261121);

const chatState = async (id: string) => (await stack.json<{ chat: Chat }>(`/api/chats/${id}`)).chat;
const boxChat = async (id: string) => (await stack.box.call("GET", `/mgmt/chats/${id}`)).json as { status: string; queuedPrompts: string[]; archived: boolean };
const pick = <T>(list: T[]): T => list[Math.floor(random() * list.length)]!;

/** Sends like the phone: retried with the same promptId until the worker has it (2xx). */
async function send(chatId: string, script: (id: string) => string, opts: { dropFirst?: boolean } = {}): Promise<string> {
  const promptId = `f${String(++nextId).padStart(3, "0")}`;
  const body = { promptId, text: script(promptId) };
  sent.push({ promptId, chatId, fault: currentFault });
  if (opts.dropFirst) {
    // The client goes away mid-request: the worker may or may not have taken it.
    const abort = new AbortController();
    const request = stack.call(`/api/chats/${chatId}/prompts`, { method: "POST", body, signal: abort.signal }).catch(() => undefined);
    setTimeout(() => abort.abort(), Math.floor(random() * 40));
    await request;
  }
  await waitFor(`prompt ${promptId} taken`, async () => {
    const res = await stack.call(`/api/chats/${chatId}/prompts`, { method: "POST", body }).catch(() => undefined);
    if (res && res.status >= 400 && res.status < 500) throw new Error(`prompt ${promptId}: ${res.status} ${await res.text()}`);
    return res?.ok ? true : undefined;
  }, 60_000);
  return promptId;
}

const finishing = (id: string) => `write f-${id}.txt: ${id}\nsay: done ${id}`;
const slow = (id: string) => `write f-${id}.txt: ${id}\nsleep: 2000\nsay: done ${id}`;

async function busyOnBox(chatId: string) {
  await waitFor(`chat ${chatId} busy on the box`, async () => ((await boxChat(chatId)).status === "busy" ? true : undefined), 30_000);
}

const faults: Record<Kind, () => Promise<void>> = {
  async "opencode killed"() {
    const chat = pick(chats);
    await send(chat.id, slow);
    await busyOnBox(chat.id);
    const supervisor = stack.box.box.supervisor;
    const pid = supervisor.pid!;
    process.kill(pid, "SIGKILL");
    await waitFor("opencode back", async () => (supervisor.up && supervisor.pid !== pid ? true : undefined), 30_000);
  },
  async "box restarted"() {
    const chat = pick(chats);
    await send(chat.id, random() < 0.5 ? slow : finishing);
    await stack.restartBox();
  },
  async "box unreachable"() {
    stack.proxy.refuse();
    for (let i = 0; i < 2; i++) await send(pick(chats).id, finishing);
    stack.proxy.pass();
    await stack.worker.scheduled();
  },
  async "stream cut"() {
    await send(pick(chats).id, (id) => `say: part one of ${id}\nsleep: 300\nwrite f-${id}.txt: ${id}\nsay: done ${id}`);
    await new Promise((r) => setTimeout(r, 100 + random() * 300));
    stack.proxy.cutAll();
  },
  async "client dropped"() {
    await send(pick(chats).id, finishing, { dropFirst: true });
  },
  async "disk over budget"() {
    // Archived and idle: GC (over a one-byte budget) may remove its worktree; the branch must bring it back.
    const chat = pick(chats.slice(1));
    await waitFor(`chat ${chat.id} idle with every prompt delivered`, async () => {
      await stack.worker.scheduled();
      const { prompts } = await stack.json<{ prompts: Array<{ state: string }> }>(`/api/chats/${chat.id}/prompts`);
      const c = await boxChat(chat.id);
      return prompts.every((p) => p.state === "sent") && c.status !== "busy" && c.queuedPrompts.length === 0 ? true : undefined;
    }, 60_000);
    await stack.json(`/api/chats/${chat.id}`, { method: "PATCH", body: { archived: true } });
    await waitFor("archived on the box", async () => ((await boxChat(chat.id)).archived ? true : undefined));
    // A run the box still had to settle (a send cut by a restart) may keep it busy a moment longer.
    await waitFor("GC removes the archived chat's worktree", async () => {
      const gc = (await stack.box.call("POST", "/mgmt/gc", {})).json as { removed: Array<{ path: string }> };
      return gc.removed.some((r) => r.path === chat.directory) ? true : undefined;
    }, 60_000).catch(async (e) => { await writeDebug(chat.id); throw e; });
    await stack.json(`/api/chats/${chat.id}`, { method: "PATCH", body: { archived: false } });
    await send(chat.id, finishing);
  },
};

beforeAll(async () => {
  stack = await startFaultStack();
  for (let i = 0; i < CHATS; i++) {
    const made = await stack.json<{ chat: Chat }>("/api/chats", { method: "POST", body: { repo: "acme/app" } });
    chats.push(made.chat);
  }
  chats = await Promise.all(chats.map((c) => waitFor(`chat ${c.id} on the box`, async () => {
    const chat = await chatState(c.id);
    return chat.sessionId && chat.directory ? chat : undefined;
  }, 60_000)));
  browser = await launchBrowser();
  ctx = await newContext(browser.browser, PHONE, stack.worker.url);
  page = await ctx.newPage();
  await page.goto("/auth/dev?login=alice");
  await page.goto(`/chats/${chats[0]!.id}`);
  await page.getByRole("textbox", { name: "Message" }).waitFor();
}, 180_000);

afterAll(async () => {
  await ctx?.close();
  await browser?.close();
  await stack?.close();
});

describe("faults", () => {
  it("loses and duplicates no prompt, checkpoints every finished turn, leaves no chat busy, and the UI tells the truth", async () => {
    const plan = shuffle(Object.entries(PLAN).flatMap(([kind, n]) => Array<Kind>(n).fill(kind as Kind)));
    const done = new Map<Kind, number>();
    for (const kind of plan) {
      currentFault = kind;
      await faults[kind]();
      done.set(kind, (done.get(kind) ?? 0) + 1);
    }

    // Settled: the outbox empty (a cron run delivers what is left), every chat at rest on both sides.
    await waitFor("every chat at rest", async () => {
      await stack.worker.scheduled();
      const list = (await stack.json<{ chats: Chat[] }>("/api/chats")).chats.filter((c) => chats.some((x) => x.id === c.id));
      const onBox = await Promise.all(chats.map((c) => boxChat(c.id)));
      const resting = list.every((c) => c.status === "idle" || c.status === "interrupted");
      return resting && onBox.every((c) => c.status !== "busy" && c.queuedPrompts.length === 0) ? true : undefined;
    }, 180_000);

    const report = await checkChats(stack, chats, sent);
    const total = [...done.values()].reduce((a, b) => a + b, 0);
    console.log(`faults: ${total} faults, ${report.lost.length} prompts lost, ${report.duplicated.length} duplicated ` +
      `(${sent.length} prompts, ${report.finished} turns finished and checkpointed, ${report.interrupted} interrupted; ` +
      `${[...done].map(([k, n]) => `${k} ×${n}`).join(", ")}; ${stack.proxy.cuts} connections cut)`);
    expect(total).toBeGreaterThanOrEqual(100);
    if (report.lost.length > 0) await dumpLedger(report.lost);
    expect(report.lost).toEqual([]);
    expect(report.duplicated).toEqual([]);
    if (report.notCheckpointed.length > 0) await dumpCheckpoints(report.notCheckpointed);
    expect(report.notCheckpointed).toEqual([]);
    expect(report.finished).toBeGreaterThan(sent.length / 2);

    // The page open on the first chat all along shows what the box holds, without a reload.
    const first = chats[0]!;
    const status = (await chatState(first.id)).status;
    await page.locator(`.chat-head .chip[data-status='${status}']`).waitFor({ timeout: 45_000 });
    for (const promptId of report.finishedIn(first.id).slice(-3)) {
      await page.locator(".msg.agent .md", { hasText: `done ${promptId}` }).first().waitFor({ timeout: 45_000 });
    }
    await shot(page, "faults-after");
  }, 900_000);
});

async function writeDebug(chatId: string) {
  const { writeFileSync } = await import("node:fs");
  const messages = await stack.json<unknown[]>(`/api/box/oc/session/${chats.find((c) => c.id === chatId)!.sessionId}/message`).catch((e) => String(e));
  const status = await stack.box.call("GET", `/oc/session/status?directory=${encodeURIComponent(chats.find((c) => c.id === chatId)!.directory!)}`);
  writeFileSync("/tmp/faults-debug.json", JSON.stringify({ chat: await boxChat(chatId), status: status.json, lines: stack.box.lines, messages }, null, 1));
  return "see /tmp/faults-debug.json";
}

async function dumpLedger(lost: string[]) {
  const { createClient } = await import("@libsql/client");
  const db = createClient({ url: `file:${stack.box.dataDir}/box.db` });
  for (const l of lost) {
    const id = l.split(" ")[0]!;
    const rows = await db.execute({ sql: "SELECT * FROM prompts WHERE prompt_id = ?", args: [id] });
    console.log(l, sent.find((s) => s.promptId === id)?.fault, JSON.stringify(rows.rows));
  }
  console.log(stack.box.lines.join("\n"));
}

async function dumpCheckpoints(missing: string[]) {
  const chatId = missing[0]!.split(" in ")[1]!;
  console.log(missing.map((m) => `${m} ${sent.find((s) => s.promptId === m.split(" ")[0])?.fault}`).join("\n"));
  console.log(JSON.stringify(await stack.json(`/api/chats/${chatId}/checkpoints`)).slice(-3000));
  console.log(JSON.stringify(await boxChat(chatId)));
  console.log(stack.box.lines.filter((l) => !l.startsWith("[opencode]")).join("\n"));
}

/** A small deterministic generator (mulberry32). */
function seeded(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle<T>(list: T[]): T[] {
  for (let i = list.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [list[i], list[j]] = [list[j]!, list[i]!];
  }
  return list;
}
