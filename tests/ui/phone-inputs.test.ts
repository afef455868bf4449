import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser, newContext, PHONE, shot } from "../helpers/browser.ts";
import { startStack, type Stack } from "../helpers/stack.ts";
import { waitFor } from "../helpers/wait-for.ts";

let stack: Stack;
let browser: Awaited<ReturnType<typeof launchBrowser>>;
let ctx: BrowserContext;
let page: Page;
let chatId: string;
let tmp: string;
const LONG = { timeout: 45_000 };

/** An RGB PNG drawn by `pixel`, encoded here so the test knows its exact bytes. */
function png(width: number, height: number, pixel: (x: number, y: number) => [number, number, number]): Buffer {
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) raw.set(pixel(x, y), y * (width * 3 + 1) + 1 + x * 3);
  }
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(zlib.crc32(body), body.length + 4);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8);
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk("IHDR", header), chunk("IDAT", zlib.deflateSync(raw)), chunk("IEND", Buffer.alloc(0))]);
}

// The browser's speech service (Google's servers) cannot be reached here: this stands in for it, driven by the test.
function fakeSpeech() {
  type Handler = ((e: unknown) => void) | null;
  class FakeRecognition {
    lang = "";
    continuous = true;
    interimResults = false;
    onresult: Handler = null;
    onerror: Handler = null;
    onend: Handler = null;
    start() {
      (window as unknown as { __speech?: FakeRecognition }).__speech = this;
    }
    stop() {
      (window as unknown as { __speech?: FakeRecognition }).__speech = undefined;
      this.onend?.({});
    }
    abort() {
      this.stop();
    }
    hear(results: Array<[string, boolean]>) {
      const list = results.map(([transcript, isFinal]) => Object.assign([{ transcript, confidence: 0.9 }], { isFinal }));
      this.onresult?.({ resultIndex: 0, results: list });
    }
  }
  Object.assign(window, { SpeechRecognition: FakeRecognition, webkitSpeechRecognition: FakeRecognition });
}
type Speech = { hear(r: Array<[string, boolean]>): void; interimResults: boolean; lang: string };
const hear = (results: Array<[string, boolean]>) => page.evaluate((r) => (window as unknown as { __speech: Speech }).__speech.hear(r), results);
const recognition = () =>
  page.evaluate(() => {
    const s = (window as unknown as { __speech?: Speech }).__speech;
    return s && { interimResults: s.interimResults, lang: s.lang };
  });

const composer = () => page.getByRole("textbox", { name: "Message" });
const thumbs = () => page.locator(".attach-strip .thumb img");
const picker = () => page.locator("input.attach-input");
const promptCount = async () => ((await (await page.request.get(`/api/chats/${chatId}/prompts`)).json()) as { prompts: unknown[] }).prompts.length;

/** The image_url parts of the latest model request whose user message carries images. */
function imagesSentToModel(): Array<{ type: string; image_url?: { url: string } }> | undefined {
  for (const req of [...stack.box.box.demo!.requests].reverse()) {
    const user = [...req.messages].reverse().find((m) => m.role === "user");
    const parts = Array.isArray(user?.content) ? (user.content as Array<{ type: string; image_url?: { url: string } }>) : [];
    const images = parts.filter((p) => p.type !== "text");
    if (images.length) return images;
  }
  return undefined;
}

const bytesOf = (dataUrl: string | undefined) => Buffer.from((dataUrl ?? "").replace(/^data:[^,]*;base64,/, ""), "base64");

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), "ocweb-phone-inputs-"));
  stack = await startStack();
  browser = await launchBrowser();
  ctx = await newContext(browser.browser, PHONE, stack.url);
  page = await ctx.newPage();
  await page.addInitScript(fakeSpeech);
  await page.goto("/auth/dev");
  const res = await page.request.post("/api/chats", { data: { repo: "acme/widgets" }, headers: { origin: stack.url } });
  expect(res.status()).toBe(201);
  chatId = ((await res.json()) as { chat: { id: string } }).chat.id;
  await page.goto(`/chats/${chatId}`);
  await page.locator(".chat-head .chip[data-status='idle']").waitFor(LONG);
}, 120_000);

afterAll(async () => {
  await ctx?.close();
  await browser?.close();
  await stack?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe("phone inputs in the chat composer", () => {
  it("sends a picked photo and a pasted screenshot to the model as image parts, byte for byte", async () => {
    const photo = png(48, 36, (x, y) => [200, 40 + x * 4, 60 + y * 4]);
    const screenshot = png(30, 60, (x, y) => (y < 12 ? [20, 90, 200] : [240, 240, 240 - x]));
    await picker().setInputFiles({ name: "photo.png", mimeType: "image/png", buffer: photo });
    await expect.poll(() => thumbs().count()).toBe(1);
    await composer().evaluate((el, b64) => {
      const data = new DataTransfer();
      data.items.add(new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], "image.png", { type: "image/png" }));
      el.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
    }, screenshot.toString("base64"));
    await expect.poll(() => thumbs().count()).toBe(2);
    expect(await thumbs().evaluateAll((imgs) => imgs.map((i) => i.getAttribute("alt")))).toEqual(["photo.png", "image.png"]);
    await composer().fill("say: got the pictures");
    await shot(page, "phone-inputs-01-two-thumbnails");
    await page.emulateMedia({ colorScheme: "dark" });
    await shot(page, "phone-inputs-02-two-thumbnails-dark");
    await page.emulateMedia({ colorScheme: "light" });

    await page.getByRole("button", { name: "Send" }).click();
    await expect.poll(() => thumbs().count()).toBe(0);
    await page.locator(".msg.agent .md", { hasText: "got the pictures" }).waitFor(LONG);
    const images = await waitFor("the model's request with the images", async () => imagesSentToModel());
    expect(images.map((p) => p.type)).toEqual(["image_url", "image_url"]);
    expect(images[0]?.image_url?.url).toMatch(/^data:image\/png;base64,/);
    expect(bytesOf(images[0]?.image_url?.url).equals(photo)).toBe(true);
    expect(bytesOf(images[1]?.image_url?.url).equals(screenshot)).toBe(true);
  });

  it("shrinks a big photo to a JPEG within 2048 px before attaching it", async () => {
    await picker().setInputFiles({ name: "big.png", mimeType: "image/png", buffer: png(3000, 1200, (x) => [x % 256, 120, 80]) });
    await expect.poll(() => thumbs().count()).toBe(1);
    const seen = await thumbs().first().evaluate(async (img: HTMLImageElement) => {
      await img.decode();
      return { alt: img.alt, type: img.src.split(";")[0], width: img.naturalWidth, height: img.naturalHeight };
    });
    expect(seen).toEqual({ alt: "big.jpg", type: "data:image/jpeg", width: 2048, height: 819 });
    await page.getByRole("button", { name: "Remove big.jpg" }).click();
    expect(await thumbs().count()).toBe(0);
  });

  it("refuses a huge file and an eleventh image with a clear message; nothing is sent", async () => {
    const before = await promptCount();
    const huge = path.join(tmp, "huge.png");
    writeFileSync(huge, Buffer.alloc(41 * 1024 * 1024));
    await picker().setInputFiles(huge);
    await expect.poll(() => page.getByRole("alert").innerText()).toBe("huge.png is 41.0 MB; pick an image under 40.0 MB.");
    expect(await thumbs().count()).toBe(0);
    const tiny = (i: number) => ({ name: `p${i}.png`, mimeType: "image/png", buffer: png(4, 4, () => [i * 20, 0, 0]) });
    await picker().setInputFiles(Array.from({ length: 11 }, (_, i) => tiny(i + 1)));
    await expect.poll(() => thumbs().count()).toBe(10);
    expect(await page.getByRole("alert").innerText()).toBe("At most 10 images per message: p11.png left out.");
    // ten thumbnails scroll inside their strip, never the page
    expect(await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)).toBeLessThanOrEqual(0);
    await shot(page, "phone-inputs-04-ten-images");
    expect(await page.getByRole("button", { name: "Send" }).isDisabled()).toBe(true); // images need a word with them
    expect(await promptCount()).toBe(before);
    await page.reload(); // unsent images are not kept; start the next test clean
    await composer().waitFor();
  });

  it("dictates into the box at the caret, shows words as they come, and leaves the text to edit", async () => {
    const before = await promptCount();
    await composer().fill("Fix please");
    await composer().evaluate((el: HTMLTextAreaElement) => el.setSelectionRange(4, 4));
    await page.getByRole("button", { name: "Dictate" }).click();
    expect(await recognition()).toEqual({ interimResults: true, lang: await page.evaluate(() => navigator.language) });
    await hear([["the pars", false]]);
    await page.locator(".dictate-bubble", { hasText: "the pars" }).waitFor();
    expect(await page.getByRole("button", { name: "Stop dictation" }).getAttribute("aria-pressed")).toBe("true");
    await shot(page, "phone-inputs-03-dictating");
    await hear([["the parser", true]]);
    expect(await composer().inputValue()).toBe("Fix the parser please");
    await page.getByRole("button", { name: "Stop dictation" }).click();
    await page.getByRole("button", { name: "Dictate" }).waitFor();
    expect(await page.locator(".dictate-bubble").count()).toBe(0);
    await composer().press("End");
    await composer().pressSequentially(" now");
    expect(await composer().inputValue()).toBe("Fix the parser please now");
    expect(await promptCount()).toBe(before);
  });

  it("keeps attach, mic, Stop and Send on one row with room to type while the agent works", async () => {
    await composer().fill("sleep: 3000\nsay: slept");
    await page.getByRole("button", { name: "Send" }).click();
    await page.getByRole("button", { name: "Stop the agent" }).waitFor(LONG);
    const box = async (name: string) => (await page.getByRole("button", { name }).boundingBox())!;
    const row = await Promise.all(["Attach image", "Dictate", "Stop the agent", "Queue message"].map(box));
    expect(row.every((b) => b.height >= 44 && b.width >= 44 && b.x + b.width <= PHONE.width && Math.abs(b.y - row[0]!.y) < 1)).toBe(true);
    expect((await composer().boundingBox())!.width).toBeGreaterThanOrEqual(170);
    await shot(page, "phone-inputs-06-busy");
    await page.locator(".msg.agent .md", { hasText: "slept" }).waitFor(LONG);
  });

  it("has no mic where the browser has no speech recognition", async () => {
    const plain = await ctx.newPage();
    await plain.addInitScript(() => {
      const w = window as unknown as Record<string, unknown>;
      delete w.webkitSpeechRecognition;
      delete w.SpeechRecognition;
    });
    await plain.goto(`/chats/${chatId}`);
    await plain.getByRole("button", { name: "Attach image" }).waitFor();
    expect(await plain.getByRole("button", { name: "Dictate" }).count()).toBe(0);
    await plain.close();
  });
});

describe("share target", () => {
  const opened: BrowserContext[] = [];
  afterAll(() => Promise.all(opened.map((c) => c.close())));

  /** A fresh signed-in phone (no new-chat draft from before) receiving a share; it lands on /new. */
  async function share(query: string): Promise<Page> {
    const c = await newContext(browser.browser, PHONE, stack.url);
    opened.push(c);
    const p = await c.newPage();
    await p.goto("/auth/dev");
    await p.goto(`/share?${query}`);
    await p.waitForURL((u) => u.pathname === "/new");
    return p;
  }
  const prompt = (p: Page) => p.getByRole("textbox", { name: "Prompt" });

  it("opens a new chat on the repo a shared GitHub link points to, with the shared text", async () => {
    const issue = "https://github.com/acme/widgets/issues/3";
    const p = await share(`text=${encodeURIComponent(issue)}`);
    await p.getByRole("button", { name: "Repository acme/widgets: change" }).waitFor();
    expect(await prompt(p).inputValue()).toBe(issue);
    await shot(p, "phone-inputs-05-shared-issue");

    const pr = "https://github.com/acme/widgets/pull/7";
    const q = await share(`title=${encodeURIComponent("Fix it · Pull Request #7")}&text=${encodeURIComponent(pr)}&url=${encodeURIComponent(pr)}`);
    await q.getByRole("button", { name: "Repository acme/widgets: change" }).waitFor();
    expect(await prompt(q).inputValue()).toBe(`Fix it · Pull Request #7\n${pr}`);
  });

  it("a new chat can start with a screenshot: it reaches the model with the first prompt", async () => {
    const p = await share(`text=${encodeURIComponent("https://github.com/acme/widgets")}`);
    const image = png(20, 20, (x, y) => [x * 10, y * 10, 128]);
    await p.locator('.composer-new input[type="file"]').setInputFiles({ name: "bug.png", mimeType: "image/png", buffer: image });
    await expect.poll(() => p.locator(".composer-new img").count()).toBe(1);
    await prompt(p).fill("say: saw the screenshot");
    await p.getByRole("button", { name: "Send" }).click();
    await p.waitForURL(/\/chats\/[0-9A-Z]{26}$/, LONG);
    await p.locator(".msg.agent .md", { hasText: "saw the screenshot" }).waitFor(LONG);
    const images = await waitFor("the first prompt's image at the model", async () => imagesSentToModel());
    expect(bytesOf(images[0]?.image_url?.url).equals(image)).toBe(true);
  });

  it("opens a new chat with plain shared text: pick the repo, the text is there", async () => {
    const p = await share(`text=${encodeURIComponent("make the README friendlier")}`);
    await p.getByRole("heading", { name: "Pick a repository" }).waitFor();
    await p.getByRole("searchbox", { name: "Search repositories" }).fill("acme/widgets");
    await p.getByRole("button", { name: /acme\/widgets/ }).first().click();
    expect(await prompt(p).inputValue()).toBe("make the README friendlier");

    const org = await share(`url=${encodeURIComponent("https://github.com/orgs/acme/projects")}`);
    await org.getByRole("heading", { name: "Pick a repository" }).waitFor(); // an org page names no repo
  });
});
