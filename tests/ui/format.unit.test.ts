import { describe, expect, it } from "vitest";
import { age, chipOf, diffLabel, formatBytes, newUlid, relativeTime } from "../../ui/src/lib/format.ts";

const NOW = Date.parse("2025-06-15T12:00:00Z");
const ago = (ms: number) => new Date(NOW - ms).toISOString();

describe("chipOf", () => {
  it("gives each status one label, and a waiting question outranks all of them", () => {
    expect(chipOf({ status: "busy" })).toEqual({ status: "busy", label: "working" });
    expect(chipOf({ status: "idle" })).toEqual({ status: "idle", label: "done" });
    expect(chipOf({ status: "queued" }).label).toBe("queued");
    expect(chipOf({ status: "error" }).label).toBe("error");
    expect(chipOf({ status: "interrupted" }).label).toBe("interrupted");
    expect(chipOf({ status: "busy", needsYou: true })).toEqual({ status: "needs_you", label: "needs you" });
    expect(chipOf({ status: "something-new" }).status).toBe("queued");
  });
});

describe("relativeTime and age", () => {
  it("counts minutes, hours and days, then falls back to a date", () => {
    expect(relativeTime(ago(10_000), NOW)).toBe("now");
    expect(relativeTime(ago(5 * 60_000), NOW)).toBe("5m");
    expect(relativeTime(ago(3 * 3600_000), NOW)).toBe("3h");
    expect(relativeTime(ago(2 * 86400_000), NOW)).toBe("2d");
    expect(relativeTime(ago(30 * 86400_000), NOW)).toMatch(/May|16/);
    expect(relativeTime("not a date", NOW)).toBe("");
    expect(relativeTime(new Date(NOW + 60_000).toISOString(), NOW)).toBe("now");
  });

  it("says how long a process has run", () => {
    expect(age(ago(30_000), NOW)).toBe("<1m");
    expect(age(ago(42 * 60_000), NOW)).toBe("42m");
    expect(age(ago(5 * 86400_000), NOW)).toBe("5d");
  });
});

describe("formatBytes", () => {
  it("uses powers of 1024 with one decimal under 10", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(1536)).toBe("1.5 KB");
    expect(formatBytes(20 * 1024 * 1024)).toBe("20 MB");
    expect(formatBytes(202 * 1024 ** 3)).toBe("202 GB");
    expect(formatBytes(-1)).toBe("?");
  });
});

describe("diffLabel", () => {
  it("shows line counts when known, the file count otherwise, nothing for no change", () => {
    expect(diffLabel({ filesChanged: 2, additions: 12, deletions: 3 })).toBe("+12 \u22123");
    expect(diffLabel({ filesChanged: 1, additions: 0, deletions: 0 })).toBe("1 file");
    expect(diffLabel({ filesChanged: 3, additions: 0, deletions: 0 })).toBe("3 files");
    expect(diffLabel({ filesChanged: 0, additions: 0, deletions: 0 })).toBeUndefined();
  });
});

describe("newUlid", () => {
  it("is 26 Crockford characters that the worker's promptId schema accepts, ordered by time", () => {
    const a = newUlid(NOW);
    const b = newUlid(NOW + 1);
    expect(a).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(a.slice(0, 10) < b.slice(0, 10)).toBe(true);
    expect(newUlid(NOW)).not.toBe(a);
  });

  it("encodes the time like any ULID (0 → ten zeros)", () => {
    expect(newUlid(0, (bytes) => bytes.fill(0))).toBe("0".repeat(26));
  });
});
