import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readUpstream } from "../../box/opencode/read-pipe.ts";
import { retryInterrupted } from "../../box/opencode/retry-interrupted.ts";

/** A server that answers each request with the next of `answers` (the last one repeats). */
let answers: Array<{ status: number; json?: object }> = [];
let calls = 0;
const server = http.createServer((_req, res) => {
  const a = answers[Math.min(calls++, answers.length - 1)]!;
  if (a.json) res.writeHead(a.status, { "content-type": "application/json" }).end(JSON.stringify(a.json));
  else res.writeHead(a.status).end();
});
let url = "";
beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/session`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const send = (list: typeof answers) => {
  answers = list;
  calls = 0;
  return () => readUpstream(url, "GET", {}, new AbortController().signal);
};

describe("a read opencode answered with a bare 503", () => {
  it("is sent again until opencode answers it", async () => {
    const res = await retryInterrupted(send([{ status: 503 }, { status: 503 }, { status: 200, json: { ok: true } }]), [1, 1, 1]);
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(Buffer.concat(await res.toArray()).toString())).toEqual({ ok: true });
    expect(calls).toBe(3);
  });

  it("ends as the box's own 503 with a message when opencode never answers it", async () => {
    await expect(retryInterrupted(send([{ status: 503 }]), [1, 1])).rejects.toMatchObject({ status: 503, code: "opencode_unavailable" });
    expect(calls).toBe(3);
  });

  it("when every wait is spent, lets onStuck reset opencode and waits once more", async () => {
    let resets = 0;
    const reset = async () => {
      resets++;
      answers = [{ status: 200, json: { ok: "after reset" } }];
      return true;
    };
    const res = await retryInterrupted(send([{ status: 503 }]), [1, 1], reset);
    expect(resets).toBe(1);
    expect(JSON.parse(Buffer.concat(await res.toArray()).toString())).toEqual({ ok: "after reset" });
  });

  it("answers 503 without sending again when onStuck could not reset anything", async () => {
    await expect(retryInterrupted(send([{ status: 503 }]), [1, 1], async () => false)).rejects.toMatchObject({ status: 503, code: "opencode_unavailable" });
    expect(calls).toBe(3);
  });

  it("passes opencode's own 503 with a message through at once", async () => {
    const res = await retryInterrupted(send([{ status: 503, json: { name: "ServiceUnavailableError", data: { message: "not yet" } } }]), [1]);
    expect(res.statusCode).toBe(503);
    res.resume();
    expect(calls).toBe(1);
  });

  it("answers 503 with a message when opencode is not listening at all", async () => {
    const gone = () => readUpstream("http://127.0.0.1:1/session", "GET", {}, new AbortController().signal);
    await expect(retryInterrupted(gone, [1])).rejects.toMatchObject({ status: 503, code: "opencode_unavailable" });
  });
});
