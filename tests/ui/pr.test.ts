import { execa } from "execa";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser, newContext, PHONE, shot } from "../helpers/browser.ts";
import type { GithubStandin } from "../helpers/github-standin.ts";
import { startStackWithGithub } from "../helpers/stack.ts";

let gh: GithubStandin;
let stack: Awaited<ReturnType<typeof startStackWithGithub>>;
let browser: Awaited<ReturnType<typeof launchBrowser>>;
let ctx: BrowserContext;
let page: Page;
const LONG = { timeout: 45_000 };

beforeAll(async () => {
  stack = await startStackWithGithub();
  gh = stack.gh;
  browser = await launchBrowser();
  ctx = await newContext(browser.browser, PHONE, stack.url);
  page = await ctx.newPage();
}, 120_000);

afterAll(async () => {
  await ctx?.close();
  await browser?.close();
  await stack?.close();
});

describe("from GitHub sign-in to a pull request, on the phone", () => {
  it("signs in through GitHub's OAuth, picks the repo, and the agent writes a file", async () => {
    await page.goto("/");
    await page.getByRole("link", { name: /Sign in with GitHub/ }).or(page.getByRole("button", { name: /Sign in with GitHub/ })).click();
    await page.waitForURL((u) => u.pathname === "/", LONG);
    const me = (await (await page.request.get("/api/me")).json()) as { user: { login: string } };
    expect(me.user.login).toBe("alice");

    // The picker lists the repo from GitHub's API (the stand-in), as the user's own.
    await page.locator("a.fab").click();
    await page.getByRole("searchbox", { name: "Search repositories" }).fill("widg");
    await page.getByRole("button", { name: "acme/widgets" }).click();
    await page.getByRole("textbox", { name: "Prompt" }).fill("write feature.txt: shipped\nsay: feature written");
    await page.getByRole("button", { name: "Send" }).click();
    await page.waitForURL(/\/chats\/[0-9A-Z]{26}$/, LONG);
    await page.locator(".msg.agent .md", { hasText: "feature written" }).waitFor(LONG);
    await page.locator(".chat-head .chip[data-status='idle']").waitFor(LONG);
  });

  it("creates a draft PR on the stand-in from the Changes tab and links to it", async () => {
    await page.getByRole("tab", { name: /Changes/ }).click();
    await expect.poll(() => page.locator(".files .file-path").allTextContents(), LONG).toEqual(["feature.txt"]);
    await shot(page, "pr-1-changes");
    await page.getByRole("button", { name: "Create draft PR" }).click();
    const link = page.getByRole("link", { name: /Open PR #\d+/ });
    await link.waitFor(LONG);
    await shot(page, "pr-2-opened");

    expect(gh.pulls).toHaveLength(1);
    const pr = gh.pulls[0]!;
    const chatId = new URL(page.url()).pathname.split("/")[2]!;
    expect(pr).toMatchObject({ repo: "acme/widgets", login: "alice", head: `ocweb/${chatId}`, base: "main", draft: true, title: "write feature.txt: shipped" });
    expect(pr.body).toContain("feature.txt");
    expect(await link.getAttribute("href")).toContain(`/pull/${pr.number}`);
    // The PR's head is a real branch upstream holding the agent's work.
    const shown = await execa("git", ["show", `refs/heads/ocweb/${chatId}:feature.txt`], { cwd: stack.remote.remotePath });
    expect(shown.stdout).toBe("shipped");
  });
});
