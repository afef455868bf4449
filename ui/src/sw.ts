/// <reference lib="webworker" />
import { cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute } from "workbox-precaching";
import { NavigationRoute, registerRoute } from "workbox-routing";

declare const self: ServiceWorkerGlobalScope;

/** The worker's own pages: never the app shell, and never a window to reuse for a notification. */
const SERVER_PAGE = /^\/(api|auth|internal)\//;
/** pwa.tsx listens for this and routes the page in place (no reload, drafts and scroll kept). */
const OPEN_URL = "ocweb:open-url";

type Push = { kind: string; chatId?: string; title: string; body: string; url: string; tag: string };

// registerType "prompt": a new version waits until the user taps Reload (pwa.tsx → updateServiceWorker).
self.addEventListener("message", (event) => {
  if ((event.data as { type?: unknown } | null)?.type === "SKIP_WAITING") void self.skipWaiting();
});

// The shell only; everything else (the API, /auth, event streams) goes to the network untouched.
precacheAndRoute(self.__WB_MANIFEST);
cleanupOutdatedCaches();
registerRoute(new NavigationRoute(createHandlerBoundToURL("/index.html"), { denylist: [/^\/api\//, /^\/auth\//, /^\/internal\//] }));

self.addEventListener("push", (event) => event.waitUntil(onPush(readPush(event.data))));

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const data = event.notification.data as { url?: unknown } | null;
  event.waitUntil(openInApp(appPath(typeof data?.url === "string" ? data.url : undefined) ?? "/"));
});

/** Someone looking at that very chat needs no ping; a tab open anywhere else (or hidden) still gets one. */
async function onPush(push: Push): Promise<void> {
  if (push.chatId && (await windows()).some((w) => w.visibilityState === "visible" && pathOf(w.url) === `/chats/${push.chatId}`)) return;
  // renotify: a new outcome for the same chat (same tag) replaces the old one and still buzzes.
  const options: NotificationOptions & { renotify: boolean } = {
    body: push.body,
    tag: push.tag,
    renotify: true,
    requireInteraction: push.kind === "needs_you",
    icon: "/icon-192.png",
    data: { url: push.url, chatId: push.chatId },
  };
  await self.registration.showNotification(push.title, options);
}

/** The app window already on that page, else the one in front, else any: routed there and focused. No window: a new one. */
async function openInApp(path: string): Promise<void> {
  const all = await windows();
  const there = all.find((w) => pathOf(w.url) === pathOf(path));
  const win = there ?? all.find((w) => w.focused) ?? all.find((w) => w.visibilityState === "visible") ?? all[0];
  if (!win) {
    await self.clients.openWindow(path);
    return;
  }
  if (!there) win.postMessage({ type: OPEN_URL, url: path });
  await win.focus();
}

async function windows(): Promise<WindowClient[]> {
  const all = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  return all.filter((w) => !SERVER_PAGE.test(pathOf(w.url)));
}

const pathOf = (url: string) => new URL(url, self.location.origin).pathname;

/** A path in this app, or undefined: a push can never send a click to another origin. */
function appPath(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const u = new URL(url, self.location.origin);
    return u.origin === self.location.origin && !SERVER_PAGE.test(u.pathname) ? u.pathname + u.search + u.hash : undefined;
  } catch {
    return undefined;
  }
}

/** The worker's payload ({kind, chatId?, title, body, url, tag}); anything missing gets a sane default. */
function readPush(data: PushMessageData | null): Push {
  let raw: Record<string, unknown> = {};
  try {
    const parsed: unknown = data?.json();
    if (parsed && typeof parsed === "object") raw = parsed as Record<string, unknown>;
  } catch {
    raw = { body: data?.text() };
  }
  const text = (key: string) => (typeof raw[key] === "string" && raw[key] !== "" ? (raw[key] as string) : undefined);
  const chatId = /^[0-9A-Z]{26}$/.test(text("chatId") ?? "") ? text("chatId") : undefined;
  return {
    kind: text("kind") ?? "update",
    chatId,
    title: text("title") ?? "ocweb",
    body: text("body") ?? "",
    url: appPath(text("url")) ?? (chatId ? `/chats/${chatId}` : "/"),
    tag: text("tag") ?? (chatId ? `chat-${chatId}` : "ocweb"),
  };
}
