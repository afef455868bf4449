// npm run -s secrets:generate — prints fresh BOX_TOKEN, SESSION_SECRET and a VAPID key pair as KEY='value'
// lines a shell can source. Nothing is stored: redirect it into a file you keep private (README, Deploy).
import { randomBytes } from "node:crypto";

const token = () => randomBytes(32).toString("base64url");
const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
const { kty, crv, x, y, d } = await crypto.subtle.exportKey("jwk", pair.privateKey);
const publicKey = Buffer.from(await crypto.subtle.exportKey("raw", pair.publicKey)).toString("base64url");

console.log(
  [
    `# ocweb secrets, made ${new Date().toISOString()} by npm run secrets:generate. Keep them private; don't commit them.`,
    "# BOX_TOKEN: the same value on the box (fly secrets) and the worker (wrangler secret put). The rest: the worker.",
    `BOX_TOKEN='${token()}'`,
    `SESSION_SECRET='${token()}'`,
    "# The Web Push key pair: a P-256 private JWK; the public key is optional (the worker derives it).",
    `VAPID_PRIVATE_KEY='${JSON.stringify({ kty, crv, x, y, d })}'`,
    `VAPID_PUBLIC_KEY='${publicKey}'`,
  ].join("\n"),
);
