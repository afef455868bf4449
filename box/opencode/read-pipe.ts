import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import { ApiError } from "../../lib/api-error.ts";

/**
 * Reads (GET, HEAD) from opencode over keep-alive sockets, piped to the client as opencode sent them:
 * no fetch, no web streams, and a gzip body stays gzip instead of being inflated on the way through.
 */
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

const HOP_BY_HOP = ["connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade"];

export function readUpstream(url: string, method: string, headers: IncomingHttpHeaders, signal: AbortSignal): Promise<IncomingMessage> {
  const out = { ...headers };
  for (const h of HOP_BY_HOP) delete out[h];
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers: out, agent, signal }, resolve);
    req.on("error", (err) => reject(signal.aborted ? err : new ApiError(503, "opencode_unavailable", `opencode did not answer: ${err.message}`)));
    req.end();
  });
}

/** Streams opencode's answer to the client; either side going away ends the other. */
export function pipeToClient(upstream: IncomingMessage, client: ServerResponse): void {
  const headers = { ...upstream.headers };
  for (const h of HOP_BY_HOP) delete headers[h];
  client.writeHead(upstream.statusCode ?? 502, headers);
  client.flushHeaders(); // an event stream's headers go out before its first event
  client.on("close", () => {
    if (!upstream.complete) upstream.destroy();
  });
  upstream.on("error", () => client.destroy());
  upstream.pipe(client);
}

export const contentType = (res: IncomingMessage) => String(res.headers["content-type"] ?? "");
