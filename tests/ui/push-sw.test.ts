import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { type BrowserContext, type CDPSession, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PHONE, shot } from "../helpers/browser.ts";
import { type NotificationCenter, startNotificationCenter } from "../helpers/notification-center.ts";
import { type PushStandin, type PushSubscriptionJson, startPushStandin } from "../helpers/push-standin.ts";
import { startStack, type Stack } from "../helpers/stack.ts";
import { waitFor } from "../helpers/wait-for.ts";

type BgEvent = { service: string; eventName: string; instanceId: string; eventMetadata: Array<{ key: string; value: string }> };
type Chat = { id: string };

let stack: Stack;
let center: NotificationCenter;
let pushService: PushStandin;
let phone: PushSubscriptionJson;
let ctx: BrowserContext;
let page: Page;
let cdp: CDPSession;
let profile: string;
let unroute: (() => void) | undefined;
let registrationId = "";
const background: BgEvent[] = [];
const chats = { done: "", asking: "" };

/**
 * Chromium with the regular (persistent) profile: playwright's newContext() contexts are off-the-record
 * profiles, and Chromium hands a notification click to the profile by name, which never reaches them.
 * Same flags as tests/helpers/browser.ts; the D-Bus address is how its notifications reach `center`.
 */
async function launch(baseURL: string, busAddress: string): Promise<BrowserContext> {
  profile = mkdtempSync(path.join(os.tmpdir(), "ocweb-chromium-"));
  return chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    env: { ...process.env, DBUS_SESSION_BUS_ADDRESS: busAddress },
    viewport: PHONE,
    deviceScaleFactor: 1,
    isMobile: true,
    hasTouch: true,
    baseURL,
  });
}

async function createChat(prompt: string): Promise<string> {
  const res = await page.request.post("/api/chats", { data: { repo: "acme/widgets", prompt: { text: prompt } }, headers: { origin: stack.url } });
  expect(res.status()).toBe(201);
  return ((await res.json()) as { chat: Chat }).chat.id;
}

/** The payload the worker sent (as the push service stand-in decrypted it) for `kind` on `chatId`. */
const sent = (kind: string, chatId?: string) =>
  waitFor(`the worker's ${kind} push`, async () => pushService.messagesFor(phone.endpoint).find((m) => m.payload.kind === kind && m.payload.chatId === chatId)?.payload, 50_000);

/**
 * Hands a payload to the app's service worker as the phone's push service would (DevTools stands in
 * for the hop from the push service to the browser); resolves once the SW's push handler is done.
 */
async function deliver(payload: Record<string, unknown>): Promise<BgEvent[]> {
  const from = background.length;
  await cdp.send("ServiceWorker.deliverPushMessage", { origin: stack.url, registrationId, data: JSON.stringify(payload) });
  const done = await waitFor("the push event to finish", async () => background.slice(from).find((e) => e.eventName === "Push event completed"));
  expect(done.eventMetadata).toContainEqual({ key: "Status", value: "Success" });
  return background.slice(from).filter((e) => e.eventName === "Notification displayed");
}

const inTray = () => page.evaluate(() => navigator.serviceWorker.ready.then((r) => r.getNotifications()).then((ns) => ns.map((n) => ({ title: n.title, tag: n.tag, data: n.data as unknown }))));
const appPages = () => ctx.pages().filter((p) => p.url().startsWith(stack.url));

/** A P-256 key pair as the worker wants it (VAPID_PRIVATE_KEY), and its public key as browsers get it. */
function vapidKeys() {
  const jwk = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ format: "jwk" });
  const publicKey = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x!, "base64url"), Buffer.from(jwk.y!, "base64url")]).toString("base64url");
  return { privateJwk: JSON.stringify(jwk), publicKey };
}

beforeAll(async () => {
  const vapid = vapidKeys();
  center = await startNotificationCenter();
  pushService = await startPushStandin();
  unroute = pushService.routeGlobalFetch(); // the worker runs on Node in this process
  stack = await startStack({ workerEnv: { VAPID_PRIVATE_KEY: vapid.privateJwk } });
  ctx = await launch(stack.url, center.address);
  await ctx.grantPermissions(["notifications"], { origin: stack.url });
  // DevTools lives on a blank tab so it survives closing the app's window (and is no client of the app).
  cdp = await ctx.newCDPSession(ctx.pages()[0] ?? (await ctx.newPage()));
  cdp.on("ServiceWorker.workerRegistrationUpdated", (e) => {
    const reg = e.registrations.find((r) => r.scopeURL === `${stack.url}/` && !r.isDeleted);
    if (reg) registrationId = reg.registrationId;
  });
  cdp.on("BackgroundService.backgroundServiceEventReceived", (e) => background.push(e.backgroundServiceEvent));
  await cdp.send("ServiceWorker.enable");
  for (const service of ["pushMessaging", "notifications"] as const) {
    await cdp.send("BackgroundService.startObserving", { service });
    await cdp.send("BackgroundService.setRecording", { shouldRecord: true, service });
  }
  page = await ctx.newPage();
  await page.goto("/auth/dev");
  // The phone's subscription, as its push service would have made it (Chromium here has no push service).
  phone = pushService.subscribe({ applicationServerKey: vapid.publicKey });
  const res = await page.request.post("/api/push/subscriptions", { data: phone, headers: { origin: stack.url } });
  expect(res.status()).toBe(201);
  chats.done = await createChat("write notes.txt: hello\nsay: done");
  chats.asking = await createChat("ask: ship it? | yes | no");
}, 120_000);

afterAll(async () => {
  await ctx?.close().catch(() => undefined);
  if (profile) rmSync(profile, { recursive: true, force: true });
  await center?.stop();
  unroute?.();
  await pushService?.close();
  await stack?.close();
});

describe("the service worker (ui/src/sw.ts) on a phone", () => {
  it("serves deep links from the precached shell and never answers /api with it", async () => {
    await waitFor("the service worker", async () => (registrationId ? true : undefined));
    expect(await page.evaluate(() => navigator.serviceWorker.ready.then((r) => r.active?.scriptURL))).toBe(`${stack.url}/sw.js`);
    await page.reload(); // the first load is not controlled (registerType "prompt" never claims clients)
    await expect.poll(() => page.evaluate(() => navigator.serviceWorker.controller?.scriptURL)).toBe(`${stack.url}/sw.js`);
    const deep = await page.goto(`/chats/${chats.done}`);
    expect(deep?.fromServiceWorker()).toBe(true);
    await page.locator(".chat-head .chat-title", { hasText: "write notes.txt: hello" }).waitFor();
    const api = await page.goto("/api/me");
    expect(api?.fromServiceWorker()).toBe(false);
    expect(api?.headers()["content-type"]).toContain("application/json");
  });

  it("shows no notification for the chat on screen", async () => {
    const done = await sent("done", chats.done);
    expect(done).toMatchObject({ url: `/chats/${chats.done}`, tag: `chat-${chats.done}`, body: "Done · 1 file changed" });
    await page.goto(`/chats/${chats.done}`);
    await page.locator(".chat-head .chip[data-status='idle']").waitFor();
    expect(await deliver(done)).toEqual([]);
    expect(center.shown()).toEqual([]);
    expect(await inTray()).toEqual([]);
  });

  it("notifies about another chat, and a tap routes the open window to it", async () => {
    const asking = await sent("needs_you", chats.asking);
    expect(asking.body).toContain("ship it?");
    expect(await deliver(asking)).toHaveLength(1);
    expect(await inTray()).toEqual([{ title: asking.title, tag: `chat-${chats.asking}`, data: { url: `/chats/${chats.asking}`, chatId: chats.asking } }]);
    const [note] = center.shown();
    expect(note).toMatchObject({ summary: asking.title });
    expect(note!.body).toContain("ship it?");
    center.click(note!.id);
    await page.waitForURL(`**/chats/${chats.asking}`);
    await page.locator(".card.need", { hasText: "ship it?" }).waitFor();
    expect(appPages()).toEqual([page]);
    await waitFor("the tapped notification to close", async () => (center.shown().length === 0 ? true : undefined));
    await shot(page, "push-1-tap-routes-open-window");
  });

  it("with the phone locked and the app closed, the notification opens the finished chat", async () => {
    await page.close();
    const done = await sent("done", chats.done);
    expect(await deliver(done)).toHaveLength(1);
    const [note] = center.shown();
    expect(note).toMatchObject({ summary: done.title });
    expect(note!.body).toContain("Done · 1 file changed");
    const opened = ctx.waitForEvent("page");
    center.click(note!.id);
    page = await opened;
    await page.waitForURL(`**/chats/${chats.done}`);
    await page.locator(".chat-head .chip[data-status='idle']").waitFor();
    await page.locator(".msg.agent .md", { hasText: "done" }).first().waitFor();
    expect(appPages()).toEqual([page]);
    await shot(page, "push-2-opened-finished-chat");
  });
});

describe("Settings → Notifications on a phone", () => {
  const card = () => page.locator("section", { has: page.getByRole("heading", { name: "Notifications" }) });

  it("lists the devices and sends a test notification to them", async () => {
    await page.goto("/settings");
    await expect.poll(() => card().locator("[data-push-state]").getAttribute("data-push-state")).toBe("off");
    expect(await card().getByRole("status").first().textContent()).toContain("Off on this device");
    const devices = card().getByRole("list", { name: "Devices with notifications" }).getByRole("listitem");
    await expect.poll(() => devices.count()).toBe(1);
    expect(await devices.first().textContent()).toContain("Chrome on Linux");
    await shot(page, "push-3-settings");
    await card().getByRole("button", { name: "Send a test notification" }).click();
    await card().getByRole("status").filter({ hasText: "Sent to 1 device." }).waitFor();
    expect(await sent("test")).toMatchObject({ kind: "test", url: "/settings" });
  });

  it("says clearly why turning push on failed (this Chromium has no push service)", async () => {
    await card().getByRole("button", { name: "Turn on for this device" }).click();
    await card().getByRole("alert").filter({ hasText: "The browser's push service did not answer" }).waitFor({ timeout: 40_000 });
    expect(await card().locator("[data-push-state]").getAttribute("data-push-state")).toBe("off");
    await shot(page, "push-4-settings-enable-failed");
    await page.emulateMedia({ colorScheme: "dark" });
    await shot(page, "push-4-settings-enable-failed-dark");
    await page.emulateMedia({ colorScheme: "light" });
  });

  it("removes a device in two taps", async () => {
    await card().getByRole("button", { name: "Remove Chrome on Linux" }).click();
    await card().getByRole("button", { name: "Remove device" }).click();
    await card().getByText("No device gets notifications yet.").waitFor();
    expect(await card().getByRole("button", { name: "Send a test notification" }).count()).toBe(0);
    const res = await page.request.get("/api/push/subscriptions");
    expect(((await res.json()) as { subscriptions: unknown[] }).subscriptions).toEqual([]);
  });
});
