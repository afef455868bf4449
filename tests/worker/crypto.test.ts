import { describe, expect, it } from "vitest";
import { isLoopback } from "../../worker/auth/routes.ts";
import { decryptSecret, encryptSecret, fromBase64Url, randomToken, sha256Hex, toBase64Url } from "../../worker/auth/crypto.ts";
import { clearedSessionCookie, isHttps, sessionCookie } from "../../worker/auth/session.ts";
import { nextPageFromLink } from "../../worker/github/client.ts";

const SECRET = "unit-test-secret-0123456789abcdef";

describe("encryptSecret / decryptSecret", () => {
  it("round-trips and never contains the plaintext", async () => {
    const token = "gho_16C7e42F292c6912E7710c838347Ae178B4a";
    const sealed = await encryptSecret(SECRET, token);
    expect(sealed).toMatch(/^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain(token);
    expect(await decryptSecret(SECRET, sealed)).toBe(token);
  });

  it("uses a fresh 12-byte IV each time", async () => {
    const [a, b] = [await encryptSecret(SECRET, "same"), await encryptSecret(SECRET, "same")];
    expect(a).not.toBe(b);
    expect(fromBase64Url(a.split(".")[1]!)).toHaveLength(12);
  });

  it("throws under another secret, on tampering, and on a malformed value", async () => {
    const sealed = await encryptSecret(SECRET, "secret token");
    await expect(decryptSecret("another-secret-0123456789abcdef00", sealed)).rejects.toThrow();
    const [v, iv, ct] = sealed.split(".") as [string, string, string];
    const flipped = fromBase64Url(ct);
    flipped[0] = flipped[0]! ^ 1;
    await expect(decryptSecret(SECRET, `${v}.${iv}.${toBase64Url(flipped)}`)).rejects.toThrow();
    await expect(decryptSecret(SECRET, `v2.${iv}.${ct}`)).rejects.toThrow(/format/);
    await expect(decryptSecret(SECRET, "plaintext-token")).rejects.toThrow(/format/);
    await expect(decryptSecret(SECRET, `v1.${iv}.${ct}.extra`)).rejects.toThrow(/format/);
  });

  it("refuses an empty secret", async () => {
    await expect(encryptSecret("", "x")).rejects.toThrow(/SESSION_SECRET/);
  });
});

describe("sha256Hex / randomToken / base64url", () => {
  it("hashes with SHA-256", async () => {
    expect(await sha256Hex("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });

  it("makes unpadded base64url tokens of the requested size", () => {
    const token = randomToken(32);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(fromBase64Url(token)).toHaveLength(32);
    expect(randomToken(32)).not.toBe(token);
  });

  it("round-trips every byte value", () => {
    const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(Array.from(fromBase64Url(toBase64Url(bytes)))).toEqual(Array.from(bytes));
    expect(() => fromBase64Url("not+base64/url=")).toThrow();
  });
});

describe("session cookie flags", () => {
  const attrs = (header: string) => header.split(";").map((s) => s.trim());

  it("is HttpOnly, SameSite=Lax, Path=/, 30 days; Secure only over https", () => {
    const secure = attrs(sessionCookie("abc", { secure: true }));
    expect(secure[0]).toBe("ocweb_session=abc");
    expect(secure).toEqual(expect.arrayContaining(["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=2592000", "Secure"]));
    expect(attrs(sessionCookie("abc", { secure: false }))).not.toContain("Secure");
  });

  it("is cleared with Max-Age=0 and the same path", () => {
    const cleared = attrs(clearedSessionCookie({ secure: true }));
    expect(cleared[0]).toBe("ocweb_session=");
    expect(cleared).toEqual(expect.arrayContaining(["Max-Age=0", "Path=/", "HttpOnly", "Secure"]));
  });

  it("decides Secure from the request URL's scheme", () => {
    expect(isHttps("https://ocweb.example.com/auth/github/callback")).toBe(true);
    expect(isHttps("http://127.0.0.1:8787/auth/dev")).toBe(false);
  });
});

describe("isLoopback", () => {
  it("accepts 127.0.0.0/8, ::1 and IPv4-mapped loopback", () => {
    for (const ip of ["127.0.0.1", "127.1.2.3", "::1", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1", "::FFFF:127.0.0.9"]) expect(isLoopback(ip), ip).toBe(true);
  });

  it("refuses everything else", () => {
    for (const ip of [undefined, "", "10.0.0.1", "192.168.1.127", "128.0.0.1", "1127.0.0.1", "127.0.0.1.evil", "::2", "1::1", "::ffff:10.0.0.1", "fe80::1", "localhost"]) {
      expect(isLoopback(ip), String(ip)).toBe(false);
    }
  });
});

describe("nextPageFromLink", () => {
  it("reads rel=next among other rels", () => {
    const link = '<https://api.github.com/user/repos?page=1&per_page=50>; rel="prev", <https://api.github.com/user/repos?per_page=50&page=3>; rel="next", <https://api.github.com/user/repos?page=9&per_page=50>; rel="last"';
    expect(nextPageFromLink(link)).toBe(3);
  });

  it("is undefined without a next link", () => {
    expect(nextPageFromLink(null)).toBeUndefined();
    expect(nextPageFromLink('<https://api.github.com/user/repos?page=1>; rel="first"')).toBeUndefined();
  });
});
