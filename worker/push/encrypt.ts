/**
 * Message encryption for Web Push, RFC 8291 with the aes128gcm content coding of RFC 8188:
 * one record, the sender's ephemeral ECDH key in the header's keyid.
 */
const encoder = new TextEncoder();
const ascii = (text: string) => new Uint8Array(encoder.encode(text));
const RECORD_SIZE = 4096;
const HEADER_BYTES = 16 + 4 + 1 + 65; // salt, rs, idlen, keyid
const TAG_BYTES = 16;
/** Push services must take a 4096-byte body (RFC 8030 §7.2); what is left for the plaintext after the coding. */
export const MAX_PLAINTEXT_BYTES = RECORD_SIZE - HEADER_BYTES - TAG_BYTES - 1;

export async function encryptAes128gcm(plaintext: Uint8Array, uaPublic: Uint8Array<ArrayBuffer>, authSecret: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  if (plaintext.length > MAX_PLAINTEXT_BYTES) throw new Error(`push payload is ${plaintext.length} bytes; at most ${MAX_PLAINTEXT_BYTES} fit`);
  const ua = await crypto.subtle.importKey("raw", uaPublic, { name: "ECDH", namedCurve: "P-256" }, false, []);
  const local = (await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, true, ["deriveBits"])) as CryptoKeyPair;
  const asPublic = new Uint8Array((await crypto.subtle.exportKey("raw", local.publicKey)) as ArrayBuffer);
  // workers-types spells ECDH's `public` member `$public` (a generator quirk); the runtime takes the standard name.
  const ecdh = { name: "ECDH", public: ua } as unknown as Parameters<typeof crypto.subtle.deriveBits>[0];
  const ecdhSecret = new Uint8Array(await crypto.subtle.deriveBits(ecdh, local.privateKey, 256));

  const ikm = await hkdf(authSecret, ecdhSecret, concat(ascii("WebPush: info\0"), uaPublic, asPublic), 32);
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const cek = await hkdf(salt, ikm, ascii("Content-Encoding: aes128gcm\0"), 16);
  const nonce = await hkdf(salt, ikm, ascii("Content-Encoding: nonce\0"), 12);

  const key = await crypto.subtle.importKey("raw", cek, "AES-GCM", false, ["encrypt"]);
  const lastRecord = concat(plaintext, new Uint8Array([2])); // 0x02: the last (and only) record, no padding
  const record = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv: nonce }, key, lastRecord));

  const header = new Uint8Array(HEADER_BYTES);
  header.set(salt, 0);
  new DataView(header.buffer).setUint32(16, RECORD_SIZE);
  header[20] = asPublic.length;
  header.set(asPublic, 21);
  return concat(header, record);
}

async function hkdf(salt: Uint8Array<ArrayBuffer>, ikm: Uint8Array<ArrayBuffer>, info: Uint8Array<ArrayBuffer>, bytes: number): Promise<Uint8Array<ArrayBuffer>> {
  const key = await crypto.subtle.importKey("raw", ikm, "HKDF", false, ["deriveBits"]);
  return new Uint8Array(await crypto.subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt, info }, key, bytes * 8));
}

function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
