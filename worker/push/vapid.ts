import type { VapidConfig } from "./config.ts";
import { toBase64url } from "./base64url.ts";

/** RFC 8292 allows at most 24 h; push services compare against their own clocks, so stay well inside. */
const JWT_LIFETIME_SECONDS = 12 * 60 * 60;
const encoder = new TextEncoder();
const part = (value: unknown) => toBase64url(encoder.encode(JSON.stringify(value)));

/** `Authorization: vapid t=<ES256 JWT>, k=<public key>` for one push endpoint (RFC 8292 §3). */
export async function vapidAuthorization(config: VapidConfig, endpoint: string, nowSeconds = Math.floor(Date.now() / 1000)): Promise<string> {
  const claims = { aud: new URL(endpoint).origin, exp: nowSeconds + JWT_LIFETIME_SECONDS, sub: config.subject };
  const unsigned = `${part({ typ: "JWT", alg: "ES256" })}.${part(claims)}`;
  const key = await crypto.subtle.importKey("jwk", config.privateJwk, { name: "ECDSA", namedCurve: "P-256" }, false, ["sign"]);
  // WebCrypto signs ECDSA as r‖s (IEEE P1363), which is exactly JWS's ES256 encoding.
  const signature = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, key, encoder.encode(unsigned));
  return `vapid t=${unsigned}.${toBase64url(new Uint8Array(signature))}, k=${config.publicKey}`;
}
