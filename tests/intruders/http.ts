import { request } from "node:http";

export type Answer = { status: number; headers: Record<string, string | string[] | undefined>; text: string };
export type Outgoing = { method: string; url: string; headers?: Record<string, string>; body?: string };

const STREAM_READ_MS = 1_500;
const TIMEOUT_MS = 20_000;
const MAX_BYTES = 512 * 1024;

/**
 * One request exactly as written, over node:http (fetch would refuse a Host header and add its own):
 * a streaming answer (SSE) is read for 1.5 s, then the connection is dropped.
 */
export function send(out: Outgoing): Promise<Answer> {
  const url = new URL(out.url);
  return new Promise<Answer>((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, path: url.pathname + url.search, method: out.method, headers: out.headers, timeout: TIMEOUT_MS, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const done = () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString("utf8") });
        };
        const streaming = String(res.headers["content-type"] ?? "").includes("text/event-stream");
        const timer = setTimeout(() => {
          res.destroy();
          done();
        }, streaming ? STREAM_READ_MS : TIMEOUT_MS);
        res.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size <= MAX_BYTES) chunks.push(chunk);
        });
        res.on("end", done);
        res.on("error", done);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`${out.method} ${out.url}: no answer in ${TIMEOUT_MS} ms`)));
    req.on("error", reject);
    req.end(out.body);
  });
}

/** Headers as one text, for the secret scan. */
export const headerText = (headers: Answer["headers"]) =>
  Object.entries(headers).map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(", ") : (v ?? "")}`).join("\n");
