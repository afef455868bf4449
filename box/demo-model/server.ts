import { randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { answer, chatCompletionRequestSchema, type Action, type ChatCompletionRequest } from "./script.ts";

export type DemoModel = {
  baseURL: string;
  /** Every valid request body received, in order. */
  requests: ChatCompletionRequest[];
  /** The usage reported for each of `requests` (same index). */
  usages: Usage[];
  close(): Promise<void>;
};

export type Usage = { prompt_tokens: number; completion_tokens: number; total_tokens: number };

const MODEL = "scripted";
const MAX_BODY_BYTES = 20 * 1024 * 1024;

export async function startDemoModel(opts: { port?: number; host?: string } = {}): Promise<DemoModel> {
  const host = opts.host ?? "127.0.0.1";
  const requests: ChatCompletionRequest[] = [];
  const usages: Usage[] = [];
  const server = http.createServer((req, res) => {
    route(req, res, requests, usages).catch((err: unknown) => {
      if (res.headersSent) return void res.destroy();
      sendError(res, 500, "server_error", err instanceof Error ? err.message : String(err));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;
  return {
    baseURL: `http://${urlHost}:${port}/v1`,
    requests,
    usages,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function route(req: http.IncomingMessage, res: http.ServerResponse, requests: ChatCompletionRequest[], usages: Usage[]) {
  const pathname = new URL(req.url ?? "/", "http://x").pathname.replace(/\/+$/, "");
  if (req.method === "GET" && pathname === "/v1/models") {
    return sendJson(res, 200, { object: "list", data: [{ id: MODEL, object: "model", created: 0, owned_by: "ocweb" }] });
  }
  if (pathname !== "/v1/chat/completions") return sendError(res, 404, "not_found", `No route ${req.method} ${pathname}`);
  if (req.method !== "POST") return sendError(res, 405, "method_not_allowed", "Use POST");

  const raw = await readBody(req);
  if (raw === undefined) return sendError(res, 413, "request_too_large", "Body too large");
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return sendError(res, 400, "invalid_json", "Body is not valid JSON");
  }
  const parsed = chatCompletionRequestSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "body"}: ${i.message}`).join("; ");
    return sendError(res, 400, "invalid_request", issues);
  }
  const actions = answer(parsed.data);
  const usage = usageOf(raw, actions);
  requests.push(parsed.data);
  usages.push(usage);
  const id = `chatcmpl-${randomBytes(8).toString("hex")}`;
  if (parsed.data.stream) return stream(res, id, actions, usage);
  return complete(res, id, actions, usage);
}

async function stream(res: http.ServerResponse, id: string, actions: Action[], usage: object) {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
  const created = Math.floor(Date.now() / 1000);
  const send = (delta: object, finish: string | null = null, extra: object = {}) => {
    if (res.destroyed || res.writableEnded) return;
    const chunk = { id, object: "chat.completion.chunk", created, model: MODEL, choices: [{ index: 0, delta, finish_reason: finish }], ...extra };
    res.write(`data: ${JSON.stringify(chunk)}\n\n`);
  };
  send({ role: "assistant" });
  for (const action of actions) {
    if (res.destroyed) return;
    if (action.type === "pause") await pause(action.ms, res);
    if (action.type === "text") send({ content: action.text });
    if (action.type === "tool") {
      const callId = `call_${randomBytes(8).toString("hex")}`;
      send({ tool_calls: [{ index: 0, id: callId, type: "function", function: { name: action.name, arguments: "" } }] });
      send({ tool_calls: [{ index: 0, function: { arguments: JSON.stringify(action.args) } }] });
    }
  }
  send({}, finishOf(actions), { usage });
  if (res.destroyed || res.writableEnded) return;
  res.end("data: [DONE]\n\n");
}

async function complete(res: http.ServerResponse, id: string, actions: Action[], usage: object) {
  const text: string[] = [];
  const toolCalls: object[] = [];
  for (const action of actions) {
    if (action.type === "pause") await pause(action.ms, res);
    if (action.type === "text") text.push(action.text);
    if (action.type === "tool") {
      const callId = `call_${randomBytes(8).toString("hex")}`;
      toolCalls.push({ id: callId, type: "function", function: { name: action.name, arguments: JSON.stringify(action.args) } });
    }
  }
  if (res.destroyed) return;
  const message = { role: "assistant", content: text.length ? text.join("") : null, ...(toolCalls.length ? { tool_calls: toolCalls } : {}) };
  sendJson(res, 200, {
    id,
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model: MODEL,
    choices: [{ index: 0, message, finish_reason: finishOf(actions) }],
    usage,
  });
}

const finishOf = (actions: Action[]) => (actions.some((a) => a.type === "tool") ? "tool_calls" : "stop");

function usageOf(raw: string, actions: Action[]): Usage {
  const out = actions.reduce((n, a) => n + (a.type === "text" ? a.text.length : a.type === "tool" ? JSON.stringify(a.args).length : 0), 0);
  const prompt = Math.ceil(raw.length / 4);
  const completion = Math.ceil(out / 4);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

/** Resolves after ms, or early when the client goes away (e.g. opencode aborted or was killed). */
function pause(ms: number, res: http.ServerResponse) {
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      res.off("close", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    res.once("close", done);
  });
}

function readBody(req: http.IncomingMessage) {
  return new Promise<string | undefined>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY_BYTES) chunks.push(c);
    });
    req.on("end", () => resolve(size > MAX_BODY_BYTES ? undefined : Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function sendJson(res: http.ServerResponse, status: number, body: object) {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

function sendError(res: http.ServerResponse, status: number, code: string, message: string) {
  const type = status >= 500 ? "server_error" : "invalid_request_error";
  sendJson(res, status, { error: { message, type, param: null, code } });
}
