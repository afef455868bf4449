import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser, newContext, PHONE, shot } from "../helpers/browser.ts";
import { startStack, type Stack } from "../helpers/stack.ts";

type Chat = { id: string; forkedFrom?: string };

let stack: Stack;
let browser: Awaited<ReturnType<typeof launchBrowser>>;
let ctx: BrowserContext;
let page: Page;
let parent: Chat;
const LONG = { timeout: 45_000 };

const composer = () => page.getByRole("textbox", { name: "Message" });
async function sendAndWait(text: string, reply: string) {
  await composer().fill(text);
  await page.getByRole("button", { name: /^(Send|Queue message)$/ }).click();
  await page.locator(".msg.agent .md", { hasText: reply }).waitFor(LONG);
  await page.locator(".chat-head .chip[data-status='idle']").waitFor(LONG);
}
const chatIdInUrl = () => new URL(page.url()).pathname.split("/")[2];

beforeAll(async () => {
  stack = await startStack();
  browser = await launchBrowser();
  ctx = await newContext(browser.browser, PHONE, stack.url);
  page = await ctx.newPage();
  await page.goto("/auth/dev");
  const res = await page.request.post("/api/chats", { data: { repo: "acme/widgets" }, headers: { origin: stack.url } });
  parent = ((await res.json()) as { chat: Chat }).chat;
  await page.goto(`/chats/${parent.id}`);
  await sendAndWait("write one.txt: first\nsay: wrote one", "wrote one");
  await sendAndWait("write two.txt: second\nsay: wrote two", "wrote two");
}, 180_000);

afterAll(async () => {
  await ctx?.close();
  await browser?.close();
  await stack?.close();
});

describe("snapshots on the phone", () => {
  it("lists every checkpoint with its files, and forks a new chat from the first one", async () => {
    await page.goto(`/chats/${parent.id}?tab=changes`);
    const items = page.locator(".timeline .checkpoint");
    await expect.poll(() => items.count(), LONG).toBe(2);
    await items.nth(1).locator(".cp-row").click();
    await expect.poll(() => items.nth(1).locator(".cp-files li").allTextContents()).toEqual(["one.txt"]);
    await shot(page, "fork-1-checkpoint-files");
    await items.nth(1).getByRole("button", { name: "Fork a new chat from here" }).click();
    await expect.poll(() => chatIdInUrl(), LONG).not.toBe(parent.id);

    const child = ((await (await page.request.get(`/api/chats/${chatIdInUrl()}`)).json()) as { chat: Chat }).chat;
    expect(child.forkedFrom).toMatch(new RegExp(`^${parent.id}@[0-9a-f]{40}$`));
    await page.getByRole("tab", { name: /Changes/ }).click();
    await expect.poll(() => page.locator(".files .file-path").allTextContents(), LONG).toEqual(["one.txt"]);
    await shot(page, "fork-2-forked-chat-changes");
  });

  it("forks from a message: the files as that message's run left them", async () => {
    await page.goto(`/chats/${parent.id}`);
    await page.locator(".msg.user .bubble", { hasText: "write two.txt" }).click();
    await page.getByRole("button", { name: "Fork a new chat from here" }).click();
    await expect.poll(() => chatIdInUrl(), LONG).not.toBe(parent.id);
    await page.getByRole("tab", { name: /Changes/ }).click();
    await expect.poll(() => page.locator(".files .file-path").allTextContents(), LONG).toEqual(["one.txt", "two.txt"]);
    await shot(page, "fork-3-from-message");
  });
});
