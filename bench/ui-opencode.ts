// opencode's own web UI: a real `opencode serve` (isolated XDG home, no password, loopback) and a check
// that `/` and its assets really come from the binary, not from app.opencode.ai (this machine is offline).
import { startScratchOpencode, type ScratchOpencode } from "../tests/helpers/scratch-opencode.ts";

export type OpencodeUi = {
  oc: ScratchOpencode;
  version: string;
  /** Why the UI can be measured here, or why not. */
  served: { ok: true; detail: string } | { ok: false; reason: string };
};

export async function startOpencodeUi(): Promise<OpencodeUi> {
  // An empty password is "not set": the UI loads without a Basic-auth challenge, as on a laptop.
  // OPENCODE_DISABLE_EMBEDDED_WEB_UI=true (passed through) makes opencode proxy app.opencode.ai instead.
  const proxied = process.env.OPENCODE_DISABLE_EMBEDDED_WEB_UI;
  const env = { OPENCODE_SERVER_PASSWORD: "", ...(proxied ? { OPENCODE_DISABLE_EMBEDDED_WEB_UI: proxied } : {}) };
  const oc = await startScratchOpencode({ config: {}, env });
  try {
    const health = (await (await oc.fetch("/global/health")).json()) as { version?: string };
    const served = await probeUi(oc.url);
    if (!served.ok && proxied) served.reason += ` (OPENCODE_DISABLE_EMBEDDED_WEB_UI=${proxied}: opencode proxies app.opencode.ai, unreachable offline)`;
    return { oc, version: health.version ?? "unknown", served };
  } catch (err) {
    await oc.stop();
    throw err;
  }
}

async function probeUi(url: string): Promise<OpencodeUi["served"]> {
  const get = (p: string) => fetch(url + p, { signal: AbortSignal.timeout(15_000) });
  let html: string;
  try {
    const res = await get("/");
    html = await res.text();
    if (!res.ok || !res.headers.get("content-type")?.includes("text/html")) {
      return { ok: false, reason: `GET / answered ${res.status} ${res.headers.get("content-type") ?? ""} (${html.length} bytes): ${html.slice(0, 120)}` };
    }
  } catch (err) {
    return { ok: false, reason: `GET / failed: ${(err as Error).message} (a UI proxied from app.opencode.ai cannot load offline)` };
  }
  const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+\.(?:js|css))"/g)].map((m) => m[1]!);
  if (assets.length === 0) return { ok: false, reason: `GET / is HTML but links no /assets/*.js|css: ${html.slice(0, 160)}` };
  const sizes: string[] = [];
  for (const a of assets) {
    const res = await get(a).catch((err: Error) => err);
    if (res instanceof Error || !res.ok) return { ok: false, reason: `GET ${a}: ${res instanceof Error ? res.message : res.status}` };
    const body = await res.arrayBuffer();
    sizes.push(`${a} ${(body.byteLength / 1024).toFixed(0)} KB, content-encoding ${res.headers.get("content-encoding") ?? "none"}`);
  }
  return { ok: true, detail: `GET / → ${html.length} B of HTML, then ${sizes.join("; ")}` };
}
