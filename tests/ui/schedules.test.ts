import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LAPTOP, launchBrowser, PHONE, shot } from "../helpers/browser.ts";
import { startStack, type Stack } from "../helpers/stack.ts";

// India: +05:30 all year (no daylight saving), so 02:00 there is 20:30 UTC the evening before, always.
const TIME_ZONE = "Asia/Kolkata";
const PROMPT = "bump the dependencies\nsay: bumped";
const SLOW = { timeout: 60_000, interval: 250 };

describe(`scheduling a nightly prompt on a phone (${PHONE.width}×${PHONE.height}, ${TIME_ZONE})`, () => {
  let stack: Stack;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];
  const step = (name: string) => shot(page, `schedules-phone-${name}`);
  const noSideScroll = async () => expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
  const nextRuns = () => page.locator(".next-runs li").allTextContents();
  const schedulesApi = () => page.evaluate(() => fetch("/api/schedules").then((r) => r.json() as Promise<{ schedules: Array<{ cron: string; paused: boolean; next: string[] }> }>));

  beforeAll(async () => {
    stack = await startStack();
    browser = (await launchBrowser()).browser;
    context = await browser.newContext({ viewport: PHONE, baseURL: stack.url, deviceScaleFactor: 1, isMobile: true, hasTouch: true, timezoneId: TIME_ZONE, locale: "en-US" });
    page = await context.newPage();
    page.on("pageerror", (err) => pageErrors.push(err.message));
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await stack?.close();
  });

  it("signs in and shows no schedules yet", async () => {
    await page.goto("/");
    await page.getByRole("button", { name: "Sign in locally" }).click();
    await page.getByText("No chats yet").waitFor();
    await page.goto("/schedules");
    await page.getByText("No schedules yet").waitFor();
    await noSideScroll();
    await step("1-empty");
  });

  it("creates a nightly schedule: repo, prompt, 'Every night at 02:00' with the next runs in local time", async () => {
    await page.getByRole("link", { name: "New schedule" }).click();
    await page.getByRole("button", { name: "acme/widgets" }).click();
    await page.getByRole("textbox", { name: "Prompt" }).fill(PROMPT);
    expect(await page.getByRole("radio", { name: "Every night at 02:00" }).isChecked()).toBe(true);
    await expect.poll(nextRuns, SLOW).toHaveLength(3);
    for (const run of await nextRuns()) expect(run).toMatch(/, 02:00$/);
    expect(await page.locator(".preview code").textContent()).toBe("30 20 * * *");
    await expect.poll(() => page.getByLabel("Branch", { exact: true }).inputValue(), SLOW).toBe("main");
    await noSideScroll();
    await step("2-form-nightly");

    await page.getByRole("radio", { name: "Custom (cron)" }).check();
    const cron = page.getByRole("textbox", { name: "Cron expression (UTC)" });
    await cron.fill("0 0 2 * * *");
    await page.getByRole("alert").getByText("must have 5 fields").waitFor();
    await step("3-form-bad-cron");
    await cron.fill("30 6 * * 1");
    await expect.poll(nextRuns, SLOW).toHaveLength(3);
    for (const run of await nextRuns()) expect(run).toMatch(/^Mon, .*, 12:00$/);
    await page.getByRole("radio", { name: "Every night at 02:00" }).check();
    await expect.poll(() => page.locator(".preview code").textContent()).toBe("30 20 * * *");

    await page.getByRole("button", { name: "Create schedule" }).click();
    await page.waitForURL(/\/schedules\?id=[0-9A-Z]{26}$/);
    await page.getByRole("heading", { name: /bump the dependencies/ }).waitFor();
    await page.getByText("Every night at 02:00").waitFor();
    await expect.poll(nextRuns, SLOW).toHaveLength(3);
    for (const run of await nextRuns()) expect(run).toMatch(/, 02:00$/);
    await page.getByText("No runs yet.").waitFor();
    await noSideScroll();
    await step("4-detail");
    const [saved] = (await schedulesApi()).schedules;
    expect(saved).toMatchObject({ cron: "30 20 * * *", paused: false });
    for (const at of saved!.next) expect(at).toMatch(/T20:30:00\.000Z$/);
  });

  it("pauses and resumes it", async () => {
    await page.getByRole("button", { name: "Pause" }).click();
    await page.locator(".chip", { hasText: "paused" }).waitFor();
    expect(await page.locator(".next-runs").count()).toBe(0);
    expect((await schedulesApi()).schedules[0]).toMatchObject({ paused: true, next: [] });
    await step("5-paused");
    await page.getByRole("button", { name: "Resume" }).click();
    await expect.poll(nextRuns, SLOW).toHaveLength(3);
    expect((await schedulesApi()).schedules[0]!.paused).toBe(false);
  });

  it("lists it with its next run", async () => {
    await page.getByRole("link", { name: "All schedules" }).click();
    const row = page.locator("a.schedule-row", { hasText: "bump the dependencies" });
    await row.waitFor();
    expect(await row.textContent()).toMatch(/acme\/widgets.*Every night at 02:00 · next .*, 02:00/);
    await noSideScroll();
    await step("6-list");
    await page.emulateMedia({ colorScheme: "dark" });
    await step("6-list-dark");
    await page.emulateMedia({ colorScheme: "light" });
    await page.setViewportSize(LAPTOP);
    await shot(page, "schedules-laptop-list");
    await page.setViewportSize(PHONE);
  });

  it("edited to every minute, its next run shows in the history and links to the chat it made", async () => {
    await page.locator("a.schedule-row", { hasText: "bump the dependencies" }).click();
    await page.getByRole("button", { name: "Edit" }).click();
    await page.getByRole("radio", { name: "Custom (cron)" }).check();
    await page.getByRole("textbox", { name: "Cron expression (UTC)" }).fill("* * * * *");
    await expect.poll(nextRuns, SLOW).toHaveLength(3);
    await step("7a-edit");
    await page.getByRole("button", { name: "Save changes" }).click();
    await page.getByText("cron * * * * * (UTC)").waitFor();
    // The dev server's cron ticks every minute; the detail screen refreshes by itself.
    const run = page.locator("li.run", { has: page.locator("a.run-chat") }).first();
    await run.waitFor({ timeout: 150_000 });
    await expect.poll(() => run.locator(".chip").textContent(), { timeout: 90_000, interval: 500 }).toBe("done");
    await noSideScroll();
    await step("7-history");
    await run.locator("a.run-chat").click();
    await page.waitForURL(/\/chats\/[0-9A-Z]{26}$/);
    await page.getByText("bumped").first().waitFor({ timeout: 30_000 });
    await step("8-chat");
  }, 300_000);

  it("deletes it", async () => {
    await page.goto("/schedules");
    await page.locator("a.schedule-row", { hasText: "bump the dependencies" }).click();
    await page.getByRole("button", { name: "Pause" }).click();
    await page.getByRole("button", { name: "Delete this schedule" }).click();
    await page.getByRole("button", { name: "Delete schedule" }).click();
    await page.getByText("No schedules yet").waitFor();
    expect((await schedulesApi()).schedules).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
