import { createHmac, timingSafeEqual } from "node:crypto";

/** `x-ocweb-signature: t=<unix>,v1=<hex hmac-sha256(key, t + "." + body)>` (ARCHITECTURE.md). */
export function signBody(key: string, body: string, nowSeconds = Math.floor(Date.now() / 1000)): string {
  const mac = createHmac("sha256", key).update(`${nowSeconds}.${body}`).digest("hex");
  return `t=${nowSeconds},v1=${mac}`;
}

export function constantTimeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}
