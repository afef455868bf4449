/**
 * Box → worker webhook signatures (ARCHITECTURE.md):
 * `x-ocweb-signature: t=<unix>,v1=<hex hmac-sha256(key, t + "." + body)>`, at most 300 s of skew.
 * WebCrypto only, so the box (Node) and the worker (workerd) share it.
 */
const encoder = new TextEncoder();
export const MAX_SKEW_SECONDS = 300;

async function hmacHex(key: string, message: string): Promise<string> {
  const cryptoKey = await crypto.subtle.importKey("raw", encoder.encode(key), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", cryptoKey, encoder.encode(message)));
  return Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join("");
}

export async function signBody(key: string, body: string, nowSeconds = Math.floor(Date.now() / 1000)): Promise<string> {
  return `t=${nowSeconds},v1=${await hmacHex(key, `${nowSeconds}.${body}`)}`;
}

export async function verifySignature(key: string, header: string | undefined, body: string, nowSeconds = Math.floor(Date.now() / 1000)): Promise<boolean> {
  const m = /^t=(\d{1,12}),v1=([0-9a-f]{64})$/.exec(header ?? "");
  if (!m || !key) return false;
  if (Math.abs(nowSeconds - Number(m[1])) > MAX_SKEW_SECONDS) return false;
  return constantTimeEqual(await hmacHex(key, `${m[1]}.${body}`), m[2]!);
}

/** Compares without an early exit, so timing does not tell how much of a secret matched. */
export function constantTimeEqual(a: string, b: string): boolean {
  const ab = encoder.encode(a);
  const bb = encoder.encode(b);
  let diff = ab.length ^ bb.length;
  for (let i = 0; i < Math.max(ab.length, bb.length); i++) diff |= (ab[i] ?? 0) ^ (bb[i] ?? 0);
  return diff === 0;
}
