import type { InferResponseType } from "hono/client";
import { api, ApiFailure, json } from "./api.ts";
import { load, save } from "./storage.ts";

/**
 * Web Push on this device. `on`: subscribed here; `off`: could be; `blocked`: the user (or the browser)
 * denied notifications; `install`: iPhone/iPad outside the Home Screen app, where Safari has no push;
 * `unsupported`: no service worker or no Push API.
 */
export type PushState = "on" | "off" | "blocked" | "install" | "unsupported";
export type Device = InferResponseType<typeof api.api.push.subscriptions.$get, 200>["subscriptions"][number];

const SUBSCRIBE_WAIT_MS = 20_000;
const READY_WAIT_MS = 10_000;
const THIS_DEVICE = "push-subscription-id";

const ios = () => /iPad|iPhone|iPod/.test(navigator.userAgent) || (navigator.platform === "MacIntel" && navigator.maxTouchPoints > 1);
const standalone = () => matchMedia("(display-mode: standalone)").matches || (navigator as { standalone?: boolean }).standalone === true;

/** The id the worker gave this device's subscription (to mark it in the list), if any. */
export const thisDevice = () => load<string>(THIS_DEVICE);

/** `devices`: the worker's list, when it answered; a subscription it no longer lists (removed elsewhere) is off. */
export async function pushState(devices?: Device[]): Promise<PushState> {
  const capable = "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
  if (!capable) return ios() && !standalone() ? "install" : "unsupported";
  if (Notification.permission === "denied") return "blocked";
  const reg = await navigator.serviceWorker.getRegistration();
  const sub = await reg?.pushManager.getSubscription();
  if (!sub || Notification.permission !== "granted") return "off";
  const id = thisDevice();
  return devices && !devices.some((d) => d.id === id) ? "off" : "on";
}

/** On a tap only: asks for permission, subscribes with the worker's key, and registers the subscription. */
export async function enablePush(): Promise<void> {
  const permission = await Notification.requestPermission();
  if (permission === "denied") throw new Error("Notifications are blocked for this site. Allow them in the browser's site settings, then try again.");
  if (permission !== "granted") throw new Error("You closed the permission prompt without allowing notifications.");
  const key = await serverKey();
  const reg = await within(navigator.serviceWorker.ready, READY_WAIT_MS, "The app's service worker is not running yet: reload the page and try again.");
  const old = await reg.pushManager.getSubscription();
  if (old && !sameKey(old.options.applicationServerKey, key)) await old.unsubscribe();
  const sub = await within(
    reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key }),
    SUBSCRIBE_WAIT_MS,
    "The browser's push service did not answer. Check the connection and try again.",
  ).catch((err: Error) => {
    if (err instanceof DOMException) throw new Error(`The browser could not subscribe: ${err.message}`);
    throw err;
  });
  await register(sub);
}

/** Stops push on this device: forgets it on the worker, then in the browser. */
export async function disablePush(): Promise<void> {
  const id = thisDevice();
  if (id) return removeDevice(id);
  await unsubscribeHere();
}

export async function listDevices(): Promise<Device[]> {
  return (await json<{ subscriptions: Device[] }>(api.api.push.subscriptions.$get())).subscriptions;
}

/** Removing this very device also unsubscribes it here, so the state line stays true. */
export async function removeDevice(id: string): Promise<void> {
  await json(api.api.push.subscriptions[":id"].$delete({ param: { id } })).catch((err: unknown) => {
    if (!(err instanceof ApiFailure && err.status === 404)) throw err;
  });
  if (id !== thisDevice()) return;
  save(THIS_DEVICE, undefined);
  await unsubscribeHere();
}

async function unsubscribeHere(): Promise<void> {
  const reg = await navigator.serviceWorker.getRegistration();
  await (await reg?.pushManager.getSubscription())?.unsubscribe();
}

/** {sent, removed}: how many devices got it, and how many the push service said are gone. */
export function sendTest(): Promise<{ sent: number; removed: number }> {
  return json(api.api.push.test.$post());
}

async function register(sub: PushSubscription): Promise<void> {
  const { endpoint = sub.endpoint, keys = {} } = sub.toJSON();
  const body = { endpoint, keys: { p256dh: keys.p256dh ?? "", auth: keys.auth ?? "" } };
  const res = await json<{ subscription: { id: string } }>(api.api.push.subscriptions.$post({ json: body }));
  save(THIS_DEVICE, res.subscription.id);
}

async function serverKey(): Promise<Uint8Array<ArrayBuffer>> {
  try {
    const { publicKey } = await json<{ publicKey: string }>(api.api.push.key.$get());
    return fromBase64Url(publicKey);
  } catch (err) {
    // 503 says what the server lacks (its VAPID key); the person reading it runs that server.
    if (err instanceof ApiFailure && err.status === 503) throw new Error(err.message.charAt(0).toUpperCase() + err.message.slice(1));
    throw err;
  }
}

function fromBase64Url(s: string): Uint8Array<ArrayBuffer> {
  const bin = atob(s.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(s.length / 4) * 4, "="));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

function sameKey(a: ArrayBuffer | null, b: Uint8Array): boolean {
  if (!a || a.byteLength !== b.length) return false;
  const x = new Uint8Array(a);
  return x.every((v, i) => v === b[i]);
}

function within<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(message)), ms);
    p.then(resolve, reject).finally(() => clearTimeout(timer));
  });
}

/** "Chrome on Android", "Safari on iPhone"… from a User-Agent string. */
export function deviceName(ua: string | undefined): string {
  if (!ua) return "Unknown device";
  const browser = /EdgA?\//.test(ua) ? "Edge" : /Firefox\//.test(ua) ? "Firefox" : /SamsungBrowser\//.test(ua) ? "Samsung Internet" : /Chrome\//.test(ua) ? "Chrome" : /Safari\//.test(ua) ? "Safari" : "Browser";
  const os = /Android/.test(ua) ? "Android" : /iPhone/.test(ua) ? "iPhone" : /iPad/.test(ua) ? "iPad" : /Mac OS X/.test(ua) ? "Mac" : /Windows/.test(ua) ? "Windows" : /Linux/.test(ua) ? "Linux" : "";
  return os ? `${browser} on ${os}` : browser;
}
