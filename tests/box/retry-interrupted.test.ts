import { describe, expect, it } from "vitest";
import { retryInterrupted } from "../../box/opencode/retry-interrupted.ts";

const bare503 = () => new Response(null, { status: 503 });
const answers = (...list: Array<() => Response>) => {
  let calls = 0;
  return { send: async () => list[Math.min(calls++, list.length - 1)]!(), calls: () => calls };
};

describe("a read opencode answered with a bare 503", () => {
  it("is sent again until opencode answers it", async () => {
    const oc = answers(bare503, bare503, () => Response.json({ ok: true }));
    const res = await retryInterrupted(oc.send, [1, 1, 1]);
    expect(res.status).toBe(200);
    expect(oc.calls()).toBe(3);
  });

  it("ends as the box's own 503 with a message when opencode never answers it", async () => {
    const oc = answers(bare503);
    await expect(retryInterrupted(oc.send, [1, 1])).rejects.toMatchObject({ status: 503, code: "opencode_unavailable" });
    expect(oc.calls()).toBe(3);
  });

  it("passes opencode's own 503 with a message through at once", async () => {
    const oc = answers(() => Response.json({ name: "ServiceUnavailableError", data: { message: "not yet" } }, { status: 503 }));
    expect((await retryInterrupted(oc.send, [1])).status).toBe(503);
    expect(oc.calls()).toBe(1);
  });
});
