// One cold first load of a web UI under phone emulation: time to its usable screen, bytes on the wire.
import { gzipSync } from "node:zlib";
import { devices, type Browser, type BrowserContext, type CDPSession } from "playwright-core";
import { shot } from "../tests/helpers/browser.ts";

export const PHONE_DEVICE = devices["Pixel 7"]!; // 412×839, DPR 2.625, a mobile Chrome UA
export const THROTTLE = { latency: 150, downloadThroughput: 200_000, uploadThroughput: 93_750, cpuRate: 4 }; // 1.6 / 0.75 Mbps

export type UiSide = {
  name: string;
  url: string;
  /** A JS expression, evaluated in the page once per animation frame, true once the usable screen shows. */
  usable: string;
  /** Runs in the fresh context before the navigation (e.g. sets the session cookie). */
  prepare?: (context: BrowserContext) => Promise<void>;
};

export type LoadResult = {
  usableMs: number;
  requests: number;
  transferred: number;
  jsCss: { files: number; transferred: number; gzip: number; encodings: string[] };
  offHost: string[];
  failed: string[];
  /** Requests finished by the usable moment, ms from navigation start. */
  timeline: Array<{ path: string; startMs: number; endMs: number; bytes: number }>;
};

type Req = { url: string; document: boolean; sentAt: number; wallTime: number; mime?: string; encoding?: string; finishedAt?: number; bytes?: number };

// Plain JS text, not a serialized TS function: tsx would inject helpers the page does not have, and
// opencode's CSP forbids eval inside the page (an init script from CDP is exempt).
const probe = (usable: string) => `(() => {
  if (window.top !== window) return;
  const vis = (el) => !!el && el.checkVisibility() && el.getBoundingClientRect().height > 0;
  const tick = () => {
    if (${usable}) window.__benchUsableAt = performance.now();
    else requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})();`;

/** A fresh context (empty cache, no cookies, no service worker), throttled, then one navigation. */
export async function measureLoad(browser: Browser, side: UiSide, opts: { timeoutMs: number; screenshot?: string }): Promise<LoadResult> {
  const context = await browser.newContext({ ...PHONE_DEVICE, serviceWorkers: "allow" });
  try {
    await side.prepare?.(context);
    await context.addInitScript({ content: probe(side.usable) });
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    const reqs = new Map<string, Req>();
    const failed: string[] = [];
    cdp.on("Network.requestWillBeSent", (e) => {
      if (!reqs.has(e.requestId)) reqs.set(e.requestId, { url: e.request.url, document: e.type === "Document", sentAt: e.timestamp, wallTime: e.wallTime });
    });
    cdp.on("Network.responseReceived", (e) => {
      const r = reqs.get(e.requestId);
      if (!r) return;
      r.mime = e.response.mimeType;
      r.encoding = Object.entries(e.response.headers).find(([k]) => k.toLowerCase() === "content-encoding")?.[1] ?? "identity";
    });
    cdp.on("Network.loadingFinished", (e) => {
      const r = reqs.get(e.requestId);
      if (r) Object.assign(r, { finishedAt: e.timestamp, bytes: e.encodedDataLength });
    });
    cdp.on("Network.loadingFailed", (e) => {
      const r = reqs.get(e.requestId);
      if (r && !e.canceled) failed.push(`${r.url} (${e.errorText})`);
    });
    await cdp.send("Network.enable", { maxTotalBufferSize: 64 * 2 ** 20, maxResourceBufferSize: 16 * 2 ** 20 });
    await cdp.send("Network.emulateNetworkConditions", {
      offline: false,
      latency: THROTTLE.latency,
      downloadThroughput: THROTTLE.downloadThroughput,
      uploadThroughput: THROTTLE.uploadThroughput,
      connectionType: "cellular3g",
    });
    await cdp.send("Emulation.setCPUThrottlingRate", { rate: THROTTLE.cpuRate });

    await page.goto(side.url, { waitUntil: "commit", timeout: opts.timeoutMs });
    const usableMs = await waitUsable(cdp, opts.timeoutMs, () => failed);
    const timeOrigin = (await evaluate(cdp, "performance.timeOrigin")) as number;
    if (opts.screenshot) await shot(page, opts.screenshot);
    return { usableMs, failed, ...(await tally(cdp, [...reqs.entries()], timeOrigin, usableMs)) };
  } finally {
    await context.close();
  }
}

async function evaluate(cdp: CDPSession, expression: string): Promise<unknown> {
  const res = await cdp.send("Runtime.evaluate", { expression, returnByValue: true });
  if (res.exceptionDetails) throw new Error(`${expression}: ${res.exceptionDetails.text}`);
  return res.result.value;
}

async function waitUsable(cdp: CDPSession, timeoutMs: number, failed: () => string[]): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    // A navigation in progress has no execution context yet: ask again.
    const at = await evaluate(cdp, "window.__benchUsableAt ?? null").catch(() => null);
    if (typeof at === "number") return at;
    await new Promise((r) => setTimeout(r, 250));
  }
  const f = failed();
  throw new Error(`the usable screen did not show within ${timeoutMs / 1000} s${f.length ? `; failed requests: ${f.join(", ")}` : ""}`);
}

/** Sums what finished by the moment the screen became usable; gzips every JS and CSS body at level 9. */
async function tally(cdp: CDPSession, entries: Array<[string, Req]>, timeOrigin: number, usableMs: number) {
  const doc = entries.find(([, r]) => r.document)?.[1];
  if (!doc) throw new Error("the page's document request was not recorded");
  // CDP timestamps are monotonic seconds; the page's clock starts at timeOrigin (wall-clock ms).
  const navMono = doc.sentAt - (doc.wallTime * 1000 - timeOrigin) / 1000;
  const done = entries.filter(([, r]) => r.finishedAt !== undefined && r.finishedAt <= navMono + usableMs / 1000 + 0.001);
  const jsCss = { files: 0, transferred: 0, gzip: 0, encodings: new Set<string>() };
  for (const [id, r] of done) {
    if (!/javascript|css/.test(r.mime ?? "")) continue;
    const body = await cdp.send("Network.getResponseBody", { requestId: id });
    const bytes = Buffer.from(body.body, body.base64Encoded ? "base64" : "utf8");
    jsCss.files++;
    jsCss.transferred += r.bytes ?? 0;
    jsCss.gzip += gzipSync(bytes, { level: 9 }).length;
    jsCss.encodings.add(r.encoding ?? "identity");
  }
  const http = entries.map(([, r]) => r.url).filter((u) => /^https?:/.test(u));
  return {
    requests: done.length,
    transferred: done.reduce((n, [, r]) => n + (r.bytes ?? 0), 0),
    jsCss: { ...jsCss, encodings: [...jsCss.encodings] },
    offHost: http.filter((u) => new URL(u).hostname !== new URL(doc.url).hostname),
    timeline: done.map(([, r]) => ({
      path: /^https?:/.test(r.url) ? new URL(r.url).pathname : r.url.slice(0, 40),
      startMs: (r.sentAt - navMono) * 1000,
      endMs: (r.finishedAt! - navMono) * 1000,
      bytes: r.bytes ?? 0,
    })),
  };
}
