import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LAPTOP, launchBrowser, newContext, PHONE, shot } from "../helpers/browser.ts";
import { startStackWithGithub } from "../helpers/stack.ts";

type Chat = { id: string; status: string; model?: string; directory?: string; issueUrl?: string; archived: boolean };

const ISSUE_URL = "https://github.example/acme/widgets/issues/7";
const SLOW = { timeout: 90_000, interval: 500 };
let stack: Awaited<ReturnType<typeof startStackWithGithub>>;
let browser: Awaited<ReturnType<typeof launchBrowser>>;
let ctx: BrowserContext;
let page: Page;
let groupId = "";

const step = (name: string) => shot(page, `attempts-phone-${name}`);
const card = (n: number) => page.getByRole("listitem", { name: `Attempt ${n}` });
const noSideScroll = async () => expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
const groupChats = async () => ((await (await page.request.get(`/api/chats?group=${groupId}`)).json()) as { chats: Chat[] }).chats;
/** The demo model's runs (tool-enabled requests) for the session working in `dir`: which model names they used. */
const modelsAskedIn = (dir: string) =>
  [...new Set((stack.box.box.demo?.requests ?? []).filter((r) => (r.tools?.length ?? 0) > 0 && r.messages.some((m) => m.role === "system" && JSON.stringify(m.content).includes(`Working directory: ${dir}`))).map((r) => r.model))];

beforeAll(async () => {
  stack = await startStackWithGithub({
    issues: {
      "acme/widgets": [
        { number: 7, title: "Make notes", body: "write notes.txt: from the issue\nsay: noted", labels: ["good first issue"] },
        { number: 8, title: "Add a changelog (a pull request)", pull_request: true },
      ],
    },
  });
  browser = await launchBrowser();
  ctx = await newContext(browser.browser, PHONE, stack.url);
  page = await ctx.newPage();
}, 120_000);

afterAll(async () => {
  await ctx?.close();
  await browser?.close();
  await stack?.close();
});

describe("parallel attempts from an issue, on a phone", () => {
  it("signs in with GitHub; a /new?repo=&text= link fills the new-chat screen", async () => {
    await page.goto("/");
    await page.getByRole("link", { name: "Sign in with GitHub" }).click();
    await page.getByText("No chats yet").waitFor();
    await page.goto(`/new?repo=acme/widgets&text=${encodeURIComponent("Shared from another app")}`);
    await page.getByRole("button", { name: "Repository acme/widgets: change" }).waitFor();
    expect(await page.getByRole("textbox", { name: "Prompt" }).inputValue()).toBe("Shared from another app");
    await expect.poll(() => new URL(page.url()).search).toBe(""); // a reload does not add the text twice
    await page.getByRole("textbox", { name: "Prompt" }).fill("");
  });

  it("picks an open issue (pull requests are not offered): its title, body and URL become the prompt", async () => {
    await page.getByRole("button", { name: /from an issue/ }).click();
    const issue = page.getByRole("button", { name: /#7 Make notes/ });
    await issue.waitFor();
    expect(await page.getByRole("button", { name: /#8/ }).count()).toBe(0);
    await noSideScroll();
    await step("1-issues");
    await issue.click();
    const prompt = page.getByRole("textbox", { name: "Prompt" });
    expect(await prompt.inputValue()).toBe(`Make notes\n\nwrite notes.txt: from the issue\nsay: noted\n\n${ISSUE_URL}`);
    expect(await page.getByRole("link", { name: "#7 Make notes" }).getAttribute("href")).toBe(ISSUE_URL);
  });

  it("sets three attempts with a model each (kept over a reload) and sends them: the group screen opens", async () => {
    const more = page.getByRole("button", { name: "More attempts" });
    await more.click();
    await more.click();
    expect(await page.getByRole("group", { name: "Attempts" }).locator("output").textContent()).toBe("3");
    await expect.poll(() => page.getByLabel("Model for attempt 2").locator("option").count(), SLOW).toBeGreaterThan(2);
    await page.getByLabel("Model for attempt 2").selectOption("ocweb-demo/alt");
    await page.reload();
    await expect.poll(() => page.getByLabel("Model for attempt 2").inputValue(), SLOW).toBe("ocweb-demo/alt");
    expect(await page.getByLabel("Model", { exact: true }).count()).toBe(0);
    await noSideScroll();
    await step("2-three-attempts");
    await page.getByRole("button", { name: "Send 3 attempts" }).click();
    await page.waitForURL(/\/groups\/[0-9A-Z]{26}$/);
    groupId = new URL(page.url()).pathname.split("/").pop()!;
    await card(3).waitFor();
    expect(await page.locator(".group-title").textContent()).toBe("Make notes");
  });

  it("each attempt runs on its own worktree with its own model and finishes with its diff size", async () => {
    for (const n of [1, 2, 3]) {
      await expect.poll(() => card(n).locator(".chip").first().textContent(), SLOW).toBe("done");
      await expect.poll(() => card(n).locator(".attempt-diff").textContent(), SLOW).toBe("1 file +1 −0");
    }
    expect(await card(2).locator(".attempt-model").textContent()).toBe("alt");
    const chats = await groupChats();
    expect(chats.map((c) => c.issueUrl)).toEqual([ISSUE_URL, ISSUE_URL, ISSUE_URL]);
    expect(new Set(chats.map((c) => c.directory)).size).toBe(3);
    expect(chats.map((c) => modelsAskedIn(c.directory!))).toEqual([["scripted"], ["alt"], ["scripted"]]);
    // Stacked on a phone: each card below the one before.
    const ys = await Promise.all([1, 2, 3].map(async (n) => (await card(n).boundingBox())!.y));
    expect(ys[0]! < ys[1]! && ys[1]! < ys[2]!).toBe(true);
    await noSideScroll();
    await step("3-group");
  }, 150_000);

  it("on a laptop the attempts stand side by side", async () => {
    await page.setViewportSize(LAPTOP);
    const boxes = await Promise.all([1, 2, 3].map(async (n) => (await card(n).boundingBox())!));
    expect(new Set(boxes.map((b) => Math.round(b.y))).size).toBe(1);
    expect(boxes[0]!.x < boxes[1]!.x && boxes[1]!.x < boxes[2]!.x).toBe(true);
    await shot(page, "attempts-laptop-group");
    await page.setViewportSize(PHONE);
  });

  it("ships attempt 2: its chat opens, and the other two leave the list", async () => {
    const chats = await groupChats();
    await card(2).getByRole("button", { name: "Ship this one" }).click();
    await page.waitForURL(`**/chats/${chats[1]!.id}`);
    expect((await groupChats()).map((c) => c.archived)).toEqual([true, false, true]);
    await page.getByRole("link", { name: "Back to chats" }).click();
    await page.locator("a.row", { hasText: "Make notes" }).first().waitFor();
    await expect.poll(() => page.locator("a.row", { hasText: "Make notes" }).count()).toBe(1);
    expect(await page.locator("a.row", { hasText: "Make notes" }).getAttribute("href")).toBe(`/chats/${chats[1]!.id}`);
    await page.goto(`/groups/${groupId}`);
    await card(2).locator(".chip.shipped").waitFor();
    expect(await card(2).getByRole("button", { name: "Shipped" }).isDisabled()).toBe(true);
    await step("4-shipped");
  });
});
