import { existsSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LAPTOP, launchBrowser, newContext, PHONE, shot } from "../helpers/browser.ts";
import { startStack, type Stack } from "../helpers/stack.ts";

const DIST = path.resolve(process.env.OCWEB_UI_DIST ?? "ui/dist");
const PROMPT = "write notes.txt: hello\nsay: done";
const TITLE = "write notes.txt: hello";
const SLOW = { timeout: 60_000, interval: 250 };

describe("the built UI (ui/dist)", () => {
  it("keeps the first load (the JS and CSS index.html links) at or under 60 KB gzip", () => {
    const html = readFileSync(path.join(DIST, "index.html"), "utf8");
    const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+\.(?:js|css))"/g)].map((m) => m[1]!);
    expect(assets.some((a) => a.endsWith(".js"))).toBe(true);
    expect(assets.some((a) => a.endsWith(".css"))).toBe(true);
    const gzipBytes = assets.reduce((n, a) => n + gzipSync(readFileSync(path.join(DIST, a))).length, 0);
    console.log(`first load: ${assets.join(", ")} = ${(gzipBytes / 1024).toFixed(1)} KB gzip`);
    expect(gzipBytes).toBeLessThanOrEqual(60 * 1024);
  });

  it("ships the web manifest and a service worker that never routes /api or /auth", () => {
    expect(existsSync(path.join(DIST, "manifest.webmanifest"))).toBe(true);
    const manifest = JSON.parse(readFileSync(path.join(DIST, "manifest.webmanifest"), "utf8")) as { name: string; start_url: string };
    expect(manifest).toMatchObject({ name: "ocweb", start_url: "/" });
    const sw = readFileSync(path.join(DIST, "sw.js"), "utf8").replace(/\s+/g, "");
    // The navigation fallback skips /api, /auth and /internal (push-sw.test.ts checks /api really goes to the network).
    expect(sw).toContain("denylist:[/^\\/api\\//,/^\\/auth\\//,/^\\/internal\\//]");
  });
});

for (const [device, viewport] of [["phone", PHONE], ["laptop", LAPTOP]] as const) {
  describe(`home on a ${device} (${viewport.width}×${viewport.height})`, () => {
    const isLaptop = device === "laptop";
    let stack: Stack;
    let browser: Browser;
    let context: BrowserContext;
    let page: Page;
    let chatId = "";
    const step = (name: string) => shot(page, `home-${device}-${name}`);
    const noSideScroll = async () => expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
    const chatRow = () => page.locator("a.row", { hasText: TITLE });
    // The brand on the home screen and on a laptop, "‹ Chats" elsewhere on a phone.
    const goHome = () => page.locator("header a[href='/']").click();

    beforeAll(async () => {
      stack = await startStack();
      browser = (await launchBrowser()).browser;
      context = await newContext(browser, viewport, stack.url);
      page = await context.newPage();
    }, 120_000);

    afterAll(async () => {
      await context?.close();
      await browser?.close();
      // The last test stopped the box already (keeping its data): a second stop may complain.
      await stack?.close().catch(async () => {
        await stack.remote.cleanup();
      });
      if (stack) rmSync(stack.box.dataDir, { recursive: true, force: true });
    });

    it("shows the sign-in screen, signs in locally and lands on the empty list", async () => {
      await page.goto("/");
      await page.getByRole("button", { name: "Sign in locally" }).waitFor();
      expect(await page.getByRole("link", { name: "Sign in with GitHub" }).isVisible()).toBe(true);
      await step("1-signin");
      await page.getByRole("button", { name: "Sign in locally" }).click();
      await page.getByText("No chats yet").waitFor();
      // The app registers its service worker (virtual:pwa-register), which then precaches the shell.
      await expect.poll(() => page.evaluate(() => navigator.serviceWorker.getRegistration().then((r) => r?.active?.scriptURL ?? "")), SLOW).toMatch(/\/sw\.js$/);
      await noSideScroll();
      await step("2-empty");
    });

    it("starts a chat: New → the repo from the picker → a prompt → Send → the chat's page", async () => {
      await page.locator("a.fab").click();
      await page.waitForURL("**/new");
      const repo = page.getByRole("button", { name: "acme/widgets" });
      await repo.waitFor();
      const search = page.getByRole("searchbox", { name: "Search repositories" });
      await search.fill("no-such-repo");
      await page.getByText("No repositories match").waitFor();
      await search.fill("widg");
      await repo.waitFor();
      await noSideScroll();
      await step("3-picker");
      await repo.click();
      const prompt = page.getByRole("textbox", { name: "Prompt" });
      await prompt.waitFor();
      await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe("prompt");
      await prompt.fill(PROMPT);
      // Nothing typed is lost: the draft (repo and text) survives a reload.
      await page.reload();
      await expect.poll(() => page.getByRole("textbox", { name: "Prompt" }).inputValue()).toBe(PROMPT);
      expect(await page.getByRole("button", { name: "Repository acme/widgets: change" }).isVisible()).toBe(true);
      // Branch and model: the repo's default branch and opencode's default model, once they answer.
      await expect.poll(() => page.getByLabel("Branch", { exact: true }).inputValue()).toBe("main");
      await expect.poll(() => page.getByLabel("Model", { exact: true }).locator("option:checked").textContent(), SLOW).toBe("default · Scripted demo model");
      await noSideScroll();
      await step("4-prompt");
      await page.getByRole("button", { name: "Send" }).click();
      await page.waitForURL(/\/chats\/[0-9A-Z]{26}$/);
      chatId = new URL(page.url()).pathname.split("/").pop()!;
      await step("5-chat");
    });

    it("lists the new chat with its title; it reaches done with +1 line changed", async () => {
      if (!isLaptop) await page.getByRole("link", { name: "Back to chats" }).click();
      await chatRow().waitFor();
      expect(await chatRow().getAttribute("href")).toBe(`/chats/${chatId}`);
      expect(await chatRow().locator(".repo").textContent()).toBe("acme/widgets");
      await expect.poll(() => chatRow().locator(".chip").textContent(), SLOW).toBe("done");
      await expect.poll(() => chatRow().locator(".diffstat").textContent(), SLOW).toMatch(/^\+1 −0$/);
      await noSideScroll();
      await step("6-list-done");
      await page.emulateMedia({ colorScheme: "dark" });
      await step("6-list-done-dark");
      await page.emulateMedia({ colorScheme: "light" });
    });

    it("paints the list from the saved copy before the worker answers", async () => {
      let release = () => {};
      const held = new Promise<void>((resolve) => (release = resolve));
      const listCall = /\/api\/chats(\?.*)?$/;
      await page.route(listCall, async (route) => {
        await held;
        await route.continue();
      });
      await page.reload();
      await chatRow().waitFor();
      expect(await chatRow().locator(".chip").textContent()).toBe("done");
      release();
      await page.unrouteAll({ behavior: "wait" });
    });

    it("marks a chat whose agent asks a question NEEDS YOU, and the Needs you filter finds it", async () => {
      await page.locator("a.fab").click();
      await page.getByRole("button", { name: "acme/widgets" }).click();
      await page.getByRole("textbox", { name: "Prompt" }).fill("ask: ship it? | yes | no");
      await page.getByRole("button", { name: "Send" }).click();
      await page.waitForURL((url) => /\/chats\/[0-9A-Z]{26}$/.test(url.pathname) && !url.pathname.endsWith(chatId));
      if (!isLaptop) await page.getByRole("link", { name: "Back to chats" }).click();
      const asking = page.locator("a.row", { hasText: "ask: ship it?" });
      await expect.poll(() => asking.locator(".chip").textContent(), SLOW).toBe("needs you");
      // Newest activity first.
      expect(await page.locator("a.row .row-title").allTextContents()).toEqual(["ask: ship it? | yes | no", TITLE]);
      await page.getByRole("button", { name: /^Needs you/ }).click();
      await expect.poll(() => page.locator("a.row").count()).toBe(1);
      await step("6b-needs-you");
      await page.getByRole("button", { name: "All", exact: true }).click();
      await expect.poll(() => page.locator("a.row").count()).toBe(2);
    });

    it.runIf(isLaptop)("shows two panes: the list beside the page", async () => {
      const pane = page.locator("aside.list-pane");
      const main = page.locator("main.page");
      const [a, b] = [await pane.boundingBox(), await main.boundingBox()];
      expect(a && b).toBeTruthy();
      expect(a!.x + a!.width).toBeLessThanOrEqual(b!.x + 1);
      expect(b!.width).toBeGreaterThan(a!.width);
      expect(await page.locator("a.row[aria-current=page]").count()).toBe(1);
      await page.getByRole("link", { name: "ocweb, all chats" }).click();
      await page.getByText("Pick a chat, or start a new one").waitFor();
      await step("7-two-panes");
    });

    it("shows the box dashboard: disk against the budget, and the clone of acme/widgets", async () => {
      await page.getByRole("link", { name: "Your box" }).click();
      await page.waitForURL("**/box");
      await page.getByText(/used of a .+ budget/).waitFor();
      expect(await page.getByRole("meter").getAttribute("aria-valuenow")).toMatch(/^\d+$/);
      const clones = page.locator("section", { has: page.getByRole("heading", { name: "Clones" }) });
      await clones.getByText("acme/widgets").waitFor();
      await clones.getByRole("button", { name: "Delete acme/widgets" }).waitFor();
      await page.getByRole("button", { name: "Preview clean-up" }).click();
      await page.getByText(/Would free|Nothing to remove/).waitFor();
      await noSideScroll();
      await step("8-box");
    });

    it("keeps a chat sent while offline as queued, and sends it once back online", async () => {
      await goHome();
      await page.locator("a.fab").click();
      await page.getByRole("button", { name: "acme/widgets" }).click();
      await page.getByRole("textbox", { name: "Prompt" }).fill("say: sent from a tunnel");
      await context.setOffline(true);
      await page.getByRole("button", { name: "Send" }).click();
      await page.waitForURL((url) => url.pathname === "/");
      const pendingRow = page.locator("li.row.pending", { hasText: "say: sent from a tunnel" });
      await pendingRow.waitFor();
      expect(await pendingRow.locator(".chip").textContent()).toBe("queued");
      await page.getByText("you're offline").waitFor();
      await step("9a-offline-send");
      await context.setOffline(false);
      await page.locator("a.row", { hasText: "say: sent from a tunnel" }).waitFor({ timeout: 30_000 });
      expect(await page.locator("li.row.pending").count()).toBe(0);
      expect(await page.locator("a.row").count()).toBe(3);
    });

    it("says the box is offline when it is down, and still lists the chats from the worker", async () => {
      await stack.box.dispose({ keepData: true });
      await goHome();
      await page.getByText("your box is offline — prompts will be queued").waitFor({ timeout: 30_000 });
      await chatRow().waitFor();
      expect(await chatRow().locator(".chip").textContent()).toBe("done");
      await noSideScroll();
      await step("9-box-offline");
      await page.getByRole("link", { name: "Your box" }).click();
      await page.getByRole("alert").filter({ hasText: /your box (is unreachable|did not answer)/ }).first().waitFor();
      await step("10-box-dashboard-offline");
    });

    it("signs out from Settings back to the sign-in screen", async () => {
      await page.getByRole("link", { name: "Settings" }).click();
      await page.getByText("Signed in as").waitFor();
      expect(await page.locator(".settings strong").first().textContent()).toBe("dev");
      await step("11-settings");
      await page.getByRole("button", { name: "Sign out" }).click();
      await page.getByRole("button", { name: "Sign in locally" }).waitFor();
      const me = await page.evaluate(() => fetch("/api/me").then((r) => r.status));
      expect(me).toBe(401);
    });
  });
}
