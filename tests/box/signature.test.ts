import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { constantTimeEqual, signBody, verifySignature } from "../../lib/signature.ts";

describe("webhook signatures", () => {
  const key = "k".repeat(40);
  const body = '{"type":"chat.status"}';

  it("match an independent HMAC-SHA256 over t.body", async () => {
    const header = await signBody(key, body, 1_700_000_000);
    const expected = createHmac("sha256", key).update(`1700000000.${body}`).digest("hex");
    expect(header).toBe(`t=1700000000,v1=${expected}`);
  });

  it("verify within 300 s of skew and refuse a forged, altered, stale or future one", async () => {
    const now = 1_700_000_000;
    const header = await signBody(key, body, now);
    expect(await verifySignature(key, header, body, now + 299)).toBe(true);
    expect(await verifySignature(key, header, body, now + 301)).toBe(false);
    expect(await verifySignature(key, header, body, now - 301)).toBe(false);
    expect(await verifySignature(key, header, body + " ", now)).toBe(false);
    expect(await verifySignature("x".repeat(40), header, body, now)).toBe(false);
    expect(await verifySignature(key, undefined, body, now)).toBe(false);
    expect(await verifySignature(key, "t=1700000000,v1=zz", body, now)).toBe(false);
    expect(await verifySignature("", header, body, now)).toBe(false);
  });

  it("constantTimeEqual compares whole strings", () => {
    expect(constantTimeEqual("abc", "abc")).toBe(true);
    expect(constantTimeEqual("abc", "abd")).toBe(false);
    expect(constantTimeEqual("abc", "abcd")).toBe(false);
  });
});
