import { createECDH, createPublicKey, randomBytes, verify, type ECDH } from "node:crypto";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
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
  ttl: number;
  urgency?: string;
  topic?: string;
  jwt: JwtClaims;
};
type Device = { ecdh: ECDH; auth: Buffer; applicationServerKey?: string };

const b64url = (buf: Buffer) => buf.toString("base64url");

/**
 * A push service on loopback, speaking RFC 8030 with VAPID (RFC 8292): checks the ES256 JWT against
 * `k` (and against the applicationServerKey the device subscribed with), decrypts the body with the
 * device's private key and auth secret, and records what a service worker would receive.
 */
export async function startPushStandin() {
  const devices = new Map<string, Device>();
  const forced = new Map<string, number>();
  const received: ReceivedPush[] = [];
  const refused: Array<{ endpoint: string; status: number; reason: string }> = [];

  const server = createServer(async (req, res) => {
    const body = await readBody(req);
    const endpoint = `${url}${req.url ?? ""}`;
    const answer = (status: number, reason = "") => {
      if (status >= 400) refused.push({ endpoint, status, reason });
      res.writeHead(status, { "content-type": "application/json", ...(status === 201 ? { location: `${endpoint}/messages/${received.length}` } : {}) });
      res.end(reason ? JSON.stringify({ reason }) : "");
    };
    const device = devices.get(req.url ?? "");
    if (req.method !== "POST" || !device) return answer(404, "no such subscription");
    const status = forced.get(endpoint);
    if (status) return answer(status, "subscription expired or unsubscribed");
    const auth = /^vapid t=([\w-]+\.[\w-]+\.[\w-]+),\s*k=([\w-]+)$/.exec(req.headers.authorization ?? "");
    if (!auth) return answer(401, "Authorization must be `vapid t=<jwt>, k=<key>`");
    const jwt = checkJwt(auth[1]!, auth[2]!, new URL(url).origin, device.applicationServerKey);
    if (typeof jwt === "string") return answer(403, jwt);
    const ttl = Number(req.headers.ttl);
    if (req.headers.ttl === undefined || !Number.isInteger(ttl) || ttl < 0) return answer(400, "TTL header missing or not a number");
    const topic = header(req, "topic");
    if (topic !== undefined && !/^[A-Za-z0-9_-]{1,32}$/.test(topic)) return answer(400, "Topic must be at most 32 base64url characters");
    const encoding = header(req, "content-encoding") ?? "";
    let payload: Record<string, unknown>;
    try {
      if (encoding !== "aes128gcm") throw new Error("Content-Encoding must be aes128gcm (RFC 8291)");
      const plaintext = ece.decrypt(body, { version: "aes128gcm", privateKey: device.ecdh, authSecret: b64url(device.auth) });
      payload = JSON.parse(plaintext.toString("utf8")) as Record<string, unknown>;
    } catch (err) {
      return answer(400, `cannot decrypt the ${encoding || "unlabelled"} body: ${(err as Error).message}`);
    }
    received.push({ endpoint, payload, encoding, ttl, urgency: header(req, "urgency"), topic, jwt });
    answer(201);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    received,
    refused,
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
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
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

const header = (req: IncomingMessage, name: string) => {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
};

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === "object" ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
