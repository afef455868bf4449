const encoder = new TextEncoder();
const TOKEN_INFO = encoder.encode("ocweb github token");

export function toBase64Url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function fromBase64Url(text: string): Uint8Array<ArrayBuffer> {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new Error("not base64url");
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** `bytes` random bytes, base64url without padding. */
export function randomToken(bytes = 32): string {
  return toBase64Url(crypto.getRandomValues(new Uint8Array(bytes)));
}

export async function sha256Hex(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function tokenKey(secret: string): Promise<CryptoKey> {
  if (!secret) throw new Error("SESSION_SECRET is empty");
  const base = await crypto.subtle.importKey("raw", encoder.encode(secret), "HKDF", false, ["deriveKey"]);
  return crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: TOKEN_INFO },
    base,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
}

/** AES-GCM-256 under a key derived from `secret`; output `v1.<iv>.<ciphertext+tag>`, both base64url. */
export async function encryptSecret(secret: string, plaintext: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = await crypto.subtle.encrypt({ name: "AES-GCM", iv }, await tokenKey(secret), encoder.encode(plaintext));
  return `v1.${toBase64Url(iv)}.${toBase64Url(new Uint8Array(sealed))}`;
}

/** Throws when the ciphertext is malformed, was tampered with, or was sealed under another secret. */
export async function decryptSecret(secret: string, ciphertext: string): Promise<string> {
  const [version, iv, sealed, ...rest] = ciphertext.split(".");
  if (version !== "v1" || iv === undefined || sealed === undefined || rest.length > 0) throw new Error("unsupported ciphertext format");
  const ivBytes = fromBase64Url(iv);
  if (ivBytes.length !== 12) throw new Error("unsupported ciphertext format");
  const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv: ivBytes }, await tokenKey(secret), fromBase64Url(sealed));
  return new TextDecoder().decode(plain);
}
