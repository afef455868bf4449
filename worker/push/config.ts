import type { VapidKeys } from "@block65/webcrypto-web-push";
import { z } from "zod";
import { ApiError } from "../../lib/api-error.ts";
import type { Env } from "../env.ts";
import { fromBase64url, toBase64url } from "./base64url.ts";

/** The key pair as @block65/webcrypto-web-push takes it: the public point (base64url, uncompressed) and the JWK's `d`. */
export type VapidConfig = VapidKeys & { publicKey: string; privateKey: string; subject: string };

/** Apple's push service refuses a subject at @localhost, so the fallback is a reserved but real domain. */
const DEFAULT_SUBJECT = "mailto:ocweb@example.com";
const MAKE_KEY = `node -p "JSON.stringify(require('crypto').generateKeyPairSync('ec',{namedCurve:'P-256'}).privateKey.export({format:'jwk'}))"`;
const coordinate = z.string().refine((s) => fromBase64url(s)?.length === 32, "must be base64url of 32 bytes");
const privateJwk = z.object({ kty: z.literal("EC"), crv: z.literal("P-256"), x: coordinate, y: coordinate, d: coordinate });

const notConfigured = (message: string) => new ApiError(503, "push_not_configured", message);

/** The worker's VAPID key pair and contact (see Env); a 503 with what to fix when it is missing or wrong. */
export function vapidConfig(env: Env): VapidConfig {
  if (!env.VAPID_PRIVATE_KEY) {
    throw notConfigured(`push notifications are not set up on this worker: set VAPID_PRIVATE_KEY to a P-256 private JWK (\`${MAKE_KEY}\` prints one)`);
  }
  const jwk = privateJwk.safeParse(parseJson(env.VAPID_PRIVATE_KEY));
  if (!jwk.success) throw notConfigured("VAPID_PRIVATE_KEY is not a P-256 private JWK: it needs kty \"EC\", crv \"P-256\", x, y and d");
  const [x, y, d] = [jwk.data.x, jwk.data.y, jwk.data.d].map((c) => fromBase64url(c)!);
  const publicKey = toBase64url(new Uint8Array([4, ...x!, ...y!]));
  if (env.VAPID_PUBLIC_KEY && env.VAPID_PUBLIC_KEY.replace(/=+$/, "") !== publicKey) {
    throw notConfigured("VAPID_PUBLIC_KEY does not belong to VAPID_PRIVATE_KEY: leave it unset or set the key pair's own public key");
  }
  const subject = env.VAPID_SUBJECT?.trim() || DEFAULT_SUBJECT;
  if (!/^(mailto:[^@\s]+@[^@\s]+|https:\/\/\S+)$/.test(subject)) throw notConfigured("VAPID_SUBJECT must be a mailto: address or an https: URL");
  return { publicKey, privateKey: toBase64url(d!), subject };
}

export function vapidConfigured(env: Env): VapidConfig | undefined {
  try {
    return vapidConfig(env);
  } catch {
    return undefined;
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
