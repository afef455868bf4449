import { createECDH, createPublicKey, randomBytes, verify, type ECDH } from "node:crypto";
import { createRequire } from "node:module";

type EceParams = { version: "aes128gcm"; privateKey: ECDH; authSecret: string };
/** http_ece (Mozilla's reference implementation of RFC 8188 / 8291) ships no types. */
const ece = createRequire(import.meta.url)("http_ece") as { decrypt(body: Buffer, params: EceParams): Buffer };

export type PushSubscriptionJson = { endpoint: string; keys: { p256dh: string; auth: string } };
export type JwtClaims = { aud: string; exp: number; sub: string };
export type ReceivedPush = {
  endpoint: string;
  payload: Record<string, unknown>;
  encoding: string;
  /** Bytes on the wire: the ciphertext, which says nothing about the payload's length when padded. */
  size: number;
  ttl: number;
  urgency?: string;
  topic?: string;
  jwt: JwtClaims;
};
type Device = { ecdh: ECDH; auth: Buffer; applicationServerKey?: string };

/** Where the stand-in's endpoints live: https, like every real push service; nothing resolves it, requests reach it through `outbound`. */
export const PUSH_STANDIN_ORIGIN = "https://push.standin.test";
/** RFC 8030 §7.2: a push service has to take 4096 bytes and may refuse more with 413. */
const MAX_BODY_BYTES = 4096;
const URGENCIES = new Set(["very-low", "low", "normal", "high"]);
const b64url = (buf: Buffer) => buf.toString("base64url");

/**
 * A push service speaking RFC 8030 with VAPID (RFC 8292) at PUSH_STANDIN_ORIGIN: checks the ES256 JWT
 * against `k` (and against the applicationServerKey the device subscribed with), decrypts the body
 * with the device's private key and auth secret, and records what a service worker would receive.
 * Give `outbound` to startTestWorker so the worker's fetches to that origin land here.
 */
export async function startPushStandin() {
  const url = PUSH_STANDIN_ORIGIN;
  const devices = new Map<string, Device>();
  const forced = new Map<string, number>();
  const received: ReceivedPush[] = [];
  const refused: Array<{ endpoint: string; status: number; reason: string }> = [];

  async function handle(req: Request): Promise<Response> {
    const { pathname, search } = new URL(req.url);
    const endpoint = `${url}${pathname}${search}`;
    const answer = (status: number, reason = "") => {
      if (status >= 400) refused.push({ endpoint, status, reason });
      const headers = { "content-type": "application/json", ...(status === 201 ? { location: `${endpoint}/messages/${received.length}` } : {}) };
      return new Response(reason ? JSON.stringify({ reason }) : null, { status, headers });
    };
    const body = Buffer.from(await req.arrayBuffer());
    const device = devices.get(pathname + search);
    if (req.method !== "POST" || !device) return answer(404, "no such subscription");
    const status = forced.get(endpoint);
    if (status) return answer(status, "subscription expired or unsubscribed");
    const auth = /^vapid t=([\w-]+\.[\w-]+\.[\w-]+),\s*k=([\w-]+)$/.exec(req.headers.get("authorization") ?? "");
    if (!auth) return answer(401, "Authorization must be `vapid t=<jwt>, k=<key>`");
    const jwt = checkJwt(auth[1]!, auth[2]!, url, device.applicationServerKey);
    if (typeof jwt === "string") return answer(403, jwt);
    const ttlHeader = req.headers.get("ttl");
    const ttl = Number(ttlHeader);
    if (ttlHeader === null || !Number.isInteger(ttl) || ttl < 0) return answer(400, "TTL header missing or not a number");
    const urgency = req.headers.get("urgency") ?? undefined;
    if (urgency !== undefined && !URGENCIES.has(urgency)) return answer(400, "Urgency must be very-low, low, normal or high");
    const topic = req.headers.get("topic") ?? undefined;
    if (topic !== undefined && !/^[A-Za-z0-9_-]{1,32}$/.test(topic)) return answer(400, "Topic must be at most 32 base64url characters");
    if (body.length > MAX_BODY_BYTES) return answer(413, `the body is ${body.length} bytes; at most ${MAX_BODY_BYTES}`);
    const encoding = req.headers.get("content-encoding") ?? "";
    let payload: Record<string, unknown>;
    try {
      if (encoding !== "aes128gcm") throw new Error("Content-Encoding must be aes128gcm (RFC 8291)");
      const plaintext = ece.decrypt(body, { version: "aes128gcm", privateKey: device.ecdh, authSecret: b64url(device.auth) });
      payload = JSON.parse(plaintext.toString("utf8")) as Record<string, unknown>;
    } catch (err) {
      return answer(400, `cannot decrypt the ${encoding || "unlabelled"} body: ${(err as Error).message}`);
    }
    received.push({ endpoint, payload, encoding, size: body.length, ttl, urgency, topic, jwt });
    return answer(201);
  }

  const outbound = (req: Request): Promise<Response> | undefined => (new URL(req.url).origin === url ? handle(req) : undefined);
  return {
    url,
    received,
    refused,
    /** For startTestWorker's `outbound`: takes the requests to the stand-in's origin, leaves the rest (undefined). */
    outbound,
    /** For a worker on Node in this process (tests/helpers/stack.ts): its fetch() to the stand-in's origin lands here. Returns the undo. */
    routeGlobalFetch(): () => void {
      const original = globalThis.fetch;
      globalThis.fetch = async (input, init) => {
        const req = new Request(input, init);
        return (await outbound(req)) ?? original(req);
      };
      return () => {
        globalThis.fetch = original;
      };
    },
    /** A new device, as PushManager.subscribe() would answer it (optionally bound to the app's VAPID key). */
    subscribe(opts: { applicationServerKey?: string } = {}): PushSubscriptionJson {
      const ecdh = createECDH("prime256v1");
      ecdh.generateKeys();
      const auth = randomBytes(16);
      const path = `/push/${randomBytes(12).toString("hex")}`;
      devices.set(path, { ecdh, auth, applicationServerKey: opts.applicationServerKey });
      return { endpoint: url + path, keys: { p256dh: b64url(ecdh.getPublicKey()), auth: b64url(auth) } };
    },
    /** From now on the service answers `status` (404 or 410: the device unsubscribed) for this endpoint. */
    answer(endpoint: string, status: number) {
      forced.set(endpoint, status);
    },
    messagesFor(endpoint: string) {
      return received.filter((m) => m.endpoint === endpoint);
    },
    /** Nothing listens, so there is nothing to release. */
    close: async () => undefined,
  };
}
export type PushStandin = Awaited<ReturnType<typeof startPushStandin>>;

/** The claims when the JWT is good; otherwise why not. */
function checkJwt(token: string, k: string, origin: string, applicationServerKey: string | undefined): JwtClaims | string {
  const [head, body, sig] = token.split(".") as [string, string, string];
  const key = Buffer.from(k, "base64url");
  if (key.length !== 65 || key[0] !== 4) return "k is not an uncompressed P-256 public key";
  if (applicationServerKey && k !== applicationServerKey.replace(/=+$/, "")) return "k is not the key this subscription was made with";
  const header = parseJson(Buffer.from(head, "base64url").toString("utf8"));
  if (header?.alg !== "ES256") return "JWT alg must be ES256";
  const publicKey = createPublicKey({ format: "jwk", key: { kty: "EC", crv: "P-256", x: b64url(key.subarray(1, 33)), y: b64url(key.subarray(33)) } });
  const signed = verify("sha256", Buffer.from(`${head}.${body}`), { key: publicKey, dsaEncoding: "ieee-p1363" }, Buffer.from(sig, "base64url"));
  if (!signed) return "JWT signature does not verify with k";
  const claims = parseJson(Buffer.from(body, "base64url").toString("utf8"));
  const now = Math.floor(Date.now() / 1000);
  if (claims?.aud !== origin) return `JWT aud must be ${origin}`;
  if (typeof claims.exp !== "number" || claims.exp <= now || claims.exp > now + 24 * 60 * 60) return "JWT exp must be in the future, at most 24 h ahead";
  if (typeof claims.sub !== "string" || !/^(mailto:|https:)/.test(claims.sub)) return "JWT sub must be a mailto: or https: contact";
  return { aud: claims.aud, exp: claims.exp, sub: claims.sub };
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === "object" ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
