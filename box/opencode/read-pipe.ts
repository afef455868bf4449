import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import { Readable } from "node:stream";
import { ApiError } from "../../lib/api-error.ts";

/** Reads (GET, HEAD) from opencode over keep-alive sockets, piped to the client: no fetch, no web streams. */
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

const HOP_BY_HOP = ["connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade"];

/** The headers one connection may pass on to the next. */
function endToEnd<H extends IncomingHttpHeaders>(headers: H): H {
  const out = { ...headers };
  for (const h of HOP_BY_HOP) delete out[h];
  return out;
}

export function readUpstream(url: string, method: string, headers: IncomingHttpHeaders, signal: AbortSignal): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers: endToEnd(headers), agent, signal }, resolve);
    req.on("error", (err) => reject(signal.aborted ? err : new ApiError(503, "opencode_unavailable", `opencode did not answer: ${err.message}`)));
    req.end();
  });
}

/** Streams opencode's answer to the client; either side going away ends the other. */
export function pipeToClient(upstream: IncomingMessage, client: ServerResponse): void {
  client.writeHead(upstream.statusCode ?? 502, endToEnd(upstream.headers));
  client.on("close", () => {
    if (!upstream.complete) upstream.destroy();
  });
  upstream.on("error", () => client.destroy());
  upstream.pipe(client);
}

/** opencode's answer as a web Response, for a caller with no node socket to pipe to (app.request). */
export function webResponse(upstream: IncomingMessage, method: string): Response {
  const headers = new Headers();
  for (const [name, value] of Object.entries(endToEnd(upstream.headers))) {
    if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(", ") : value);
  }
  const body = method === "HEAD" ? null : (Readable.toWeb(upstream) as ReadableStream);
  return new Response(body, { status: upstream.statusCode, headers });
}

export const contentType = (res: IncomingMessage) => String(res.headers["content-type"] ?? "");
