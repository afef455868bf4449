import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LAPTOP, launchBrowser, newContext, PHONE, shot } from "../helpers/browser.ts";
import { startStack, type Stack } from "../helpers/stack.ts";

type Chat = { id: string; status: string; sessionId?: string; directory?: string; needsYou: boolean };

let stack: Stack;
let browser: Awaited<ReturnType<typeof launchBrowser>>;
let ctx: BrowserContext;
let page: Page;
let chat: Chat;
const LONG = { timeout: 45_000 };

const agentText = (text: string) => page.locator(".msg.agent .md", { hasText: text });
const composer = () => page.getByRole("textbox", { name: "Message" });

async function send(text: string) {
  await composer().fill(text);
  await page.getByRole("button", { name: /^(Send|Queue message)$/ }).click();
}

async function getChat(): Promise<Chat> {
  const res = await page.request.get(`/api/chats/${chat.id}`);
  expect(res.status()).toBe(200);
  return ((await res.json()) as { chat: Chat }).chat;
}

/** The run is over: no Stop button, and the chip says done. */
async function idle() {
  await page.locator(".chat-head .chip[data-status='idle']").waitFor(LONG);
  await page.getByRole("button", { name: "Stop the agent" }).waitFor({ state: "detached", ...LONG });
}

/** Nothing may make the page itself scroll sideways (code and diffs scroll inside their boxes). */
async function expectNoSidewaysScroll(p: Page = page) {
  const overflow = await p.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow).toBeLessThanOrEqual(0);
}

beforeAll(async () => {
  stack = await startStack({ boxEnv: { OPENCODE_PERMISSION: JSON.stringify({ bash: "ask" }) } });
  browser = await launchBrowser();
  ctx = await newContext(browser.browser, PHONE, stack.url);
  page = await ctx.newPage();
  await page.goto("/auth/dev");
  const res = await page.request.post("/api/chats", { data: { repo: "acme/widgets" }, headers: { origin: stack.url } });
  expect(res.status()).toBe(201);
  chat = ((await res.json()) as { chat: Chat }).chat;
  await page.goto(`/chats/${chat.id}`);
  await composer().waitFor();
}, 120_000);

afterAll(async () => {
  await ctx?.close();
  await browser?.close();
  await stack?.close();
});

describe("chat screen on a phone", () => {
  it("streams the agent's text and shows the tool call as a one-line card", async () => {
    await page.locator(".chat-head .chip[data-status='idle']").waitFor(LONG); // on the box, session ready
    await shot(page, "chat-01-empty");
    await send("write notes.txt: hello\nsleep: 2500\nsay: wrote it");
    await page.locator(".msg.user .bubble", { hasText: "write notes.txt" }).waitFor(LONG);
    // Text shown before the part ends can only have come from message.part.delta frames.
    await agentText("working for 2500 ms").waitFor(LONG);
    expect(await agentText("wrote it").count()).toBe(0);
    expect(await page.getByRole("button", { name: "Stop the agent" }).isVisible()).toBe(true);
    await shot(page, "chat-02-streaming");
    await agentText("wrote it").waitFor(LONG);
    await idle();
    const card = page.locator(".tool[data-tool='write']");
    expect(await card.locator(".tool-text").innerText()).toBe("wrote notes.txt");
    expect(await card.getAttribute("data-state")).toBe("ok");
    await card.locator(".tool-line").click();
    await card.locator(".tool-input", { hasText: "hello" }).waitFor();
    await shot(page, "chat-03-tool-open");
    await expectNoSidewaysScroll();
    expect(await composer().inputValue()).toBe("");
  });

  it("asks permission for bash; Allow once runs it", async () => {
    await send("bash: echo ok > ran.txt\nsay: ran it");
    const card = page.locator(".card.need", { hasText: "Run this command?" });
    await card.waitFor(LONG);
    expect(await card.locator(".need-detail").innerText()).toContain("echo ok > ran.txt");
    await page.locator(".chat-head .chip[data-status='needs_you']").waitFor();
    await shot(page, "chat-04-permission");
    // it survives a reload: the pending request is re-fetched
    await page.reload();
    await card.waitFor(LONG);
    await card.getByRole("button", { name: "Allow once" }).click();
    await card.waitFor({ state: "detached", ...LONG });
    await agentText("ran it").waitFor(LONG);
    await idle();
    const ran = page.locator(".tool[data-tool='bash']");
    expect(await ran.locator(".tool-text").innerText()).toBe("ran echo ok > ran.txt");
    expect(await ran.getAttribute("data-state")).toBe("ok");
    const { directory } = await getChat();
    expect(readFileSync(path.join(directory!, "ran.txt"), "utf8")).toBe("ok\n");
    await shot(page, "chat-05-permission-done");
  });

  it("answers a question with one tap on an option", async () => {
    await send("ask: Which color? | red | blue\nsay: picked");
    const card = page.locator(".card.need", { hasText: "Which color?" });
    await card.waitFor(LONG);
    await page.emulateMedia({ colorScheme: "dark" });
    await shot(page, "chat-06-question-dark");
    await page.emulateMedia({ colorScheme: "light" });
    await card.getByRole("button", { name: /^red/ }).click();
    await agentText("picked").waitFor(LONG);
    await idle();
    expect(await card.count()).toBe(0);
  });

  it("renders the agent's markdown safely, code scrolling inside its box", async () => {
    const long = `const line = "${"x".repeat(300)}";`;
    await send(`say: **bold** move <img src=x onerror="window.__xss=1"> <script>window.__xss=2</script>\nsay: \`\`\`\nsay: ${long}\nsay: \`\`\``);
    await page.locator(".msg.agent .md strong", { hasText: "bold" }).waitFor(LONG);
    await idle();
    const last = page.locator(".msg.agent").last();
    expect(await last.locator("img, script").count()).toBe(0);
    expect(await page.evaluate(() => (window as { __xss?: number }).__xss)).toBeUndefined();
    const pre = last.locator(".md pre");
    expect(await pre.evaluate((el) => el.scrollWidth > el.clientWidth)).toBe(true);
    await expectNoSidewaysScroll();
    // the end of the transcript stays in view while it grows
    const gap = await page.locator(".transcript").evaluate((el) => el.scrollHeight - el.clientHeight - el.scrollTop);
    expect(gap).toBeLessThanOrEqual(2);
    await shot(page, "chat-07a-markdown");
  });

  it("finishes a run that was reloaded mid-stream", async () => {
    await send("sleep: 4000\nsay: after reload");
    await agentText("working for 4000 ms").waitFor(LONG);
    await page.reload();
    await composer().waitFor();
    await page.locator(".msg.agent .writing").or(agentText("after reload")).first().waitFor(LONG);
    await shot(page, "chat-07-reloaded-mid-stream");
    await agentText("after reload").waitFor(LONG);
    await idle();
    await shot(page, "chat-08-after-reload");
  });

  it("stops a run with Stop", async () => {
    await send("sleep: 20000\nsay: never shown");
    await agentText("working for 20000 ms").waitFor(LONG);
    await page.getByRole("button", { name: "Stop the agent" }).click();
    await idle();
    await page.locator(".msg.agent .run-error", { hasText: "Stopped." }).waitFor(LONG);
    expect(await agentText("never shown").count()).toBe(0);
  });

  it("shows reconnecting while the event stream is down, queues a send, and catches up", async () => {
    await ctx.setOffline(true);
    await page.locator(".reconnecting").waitFor(LONG);
    await send("say: back online");
    const pending = page.locator(".msg.pending", { hasText: "say: back online" });
    await pending.waitFor(LONG);
    await pending.locator(".pending-label", { hasText: "will retry" }).waitFor(LONG);
    await shot(page, "chat-09-offline");
    await ctx.setOffline(false);
    await page.locator(".reconnecting").waitFor({ state: "detached", ...LONG });
    await agentText("back online").waitFor(LONG);
    await idle();
    expect(await page.locator(".msg.pending").count()).toBe(0);
    expect(await page.evaluate(() => Object.keys(localStorage).filter((k) => k.endsWith(".outbox")).length)).toBe(0);
  });

  it("recovers when the event stream itself is cut", async () => {
    // Cut every stream for a moment: the reconnect attempts fail, then one gets through.
    let refused = 0;
    await page.route("**/api/box/oc/event*", (route) => (refused++, route.abort("connectionreset")), { times: 2 });
    await page.evaluate(() => window.dispatchEvent(new Event("offline")));
    await page.locator(".reconnecting").waitFor(LONG);
    await page.evaluate(() => window.dispatchEvent(new Event("online")));
    await page.locator(".reconnecting").waitFor({ state: "detached", ...LONG });
    expect(refused).toBeGreaterThanOrEqual(2);
    await send("say: stream is back");
    await agentText("stream is back").waitFor(LONG);
    await idle();
  });

  it("lists the changed files with +/− and their diffs, and explains why a PR cannot be made", async () => {
    await page.getByRole("tab", { name: /Changes/ }).click();
    const row = page.locator(".file-row", { hasText: "notes.txt" });
    await row.waitFor(LONG);
    expect(await row.locator(".stat").innerText()).toBe("+1 −0");
    await page.locator(".file-row", { hasText: "ran.txt" }).waitFor();
    await row.click();
    await page.locator(".diff .diff-line.add", { hasText: "+hello" }).waitFor();
    await shot(page, "chat-10-changes");
    await expectNoSidewaysScroll();
    await page.getByRole("button", { name: "Create draft PR" }).click();
    const error = page.locator(".pr .error-text");
    await error.waitFor(LONG);
    expect(await error.innerText()).toContain("sign in with GitHub");
    await shot(page, "chat-11-pr-error");
    expect(existsSync(path.join((await getChat()).directory!, "notes.txt"))).toBe(true);
  });

  it("keeps the draft across reloads", async () => {
    await page.getByRole("tab", { name: "Chat" }).click();
    await composer().fill("half a thought");
    await page.reload();
    await composer().waitFor();
    expect(await composer().inputValue()).toBe("half a thought");
    // An on-screen keyboard that shrinks the viewport (Android resizes-content) must not hide the composer.
    await agentText("stream is back").waitFor(LONG);
    await page.setViewportSize({ width: PHONE.width, height: 480 });
    await composer().focus();
    const box = await composer().boundingBox();
    expect(box!.y + box!.height).toBeLessThanOrEqual(480);
    await shot(page, "chat-12-keyboard");
    await page.setViewportSize(PHONE);
    await composer().fill("");
  });

  it("lays out side by side on a laptop", async () => {
    const wide = await newContext(browser.browser, LAPTOP, stack.url);
    try {
      const p = await wide.newPage();
      await p.goto("/auth/dev");
      await p.goto(`/chats/${chat.id}`);
      await p.locator(".msg.agent .md", { hasText: "stream is back" }).waitFor(LONG);
      await shot(p, "chat-13-laptop");
      await expectNoSidewaysScroll(p);
    } finally {
      await wide.close();
    }
  });
});
