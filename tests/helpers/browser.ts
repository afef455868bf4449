import { mkdirSync } from "node:fs";
import path from "node:path";
import { chromium, type Browser, type BrowserContext } from "playwright-core";

export const PHONE = { width: 412, height: 839 }; // Pixel 7
export const LAPTOP = { width: 1280, height: 800 };
export const SCREENSHOTS = path.resolve("test-output/screenshots");

/**
 * Debian's Chromium, headless, with the flags ARCHITECTURE.md lists; never a downloaded browser.
 * playwright's launch() already gives each browser a fresh temporary profile (it refuses --user-data-dir).
 */
export async function launchBrowser(): Promise<{ browser: Browser; close(): Promise<void> }> {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  return { browser, close: () => browser.close() };
}

export async function newContext(browser: Browser, viewport: { width: number; height: number }, baseURL: string): Promise<BrowserContext> {
  return browser.newContext({ viewport, baseURL, deviceScaleFactor: 1, isMobile: viewport.width < 600, hasTouch: viewport.width < 600 });
}

/** Saves a screenshot under test-output/screenshots/<name>.png and returns its path. */
export async function shot(page: { screenshot(o: { path: string; fullPage?: boolean }): Promise<unknown> }, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}
