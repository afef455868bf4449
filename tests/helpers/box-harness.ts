import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseBoxEnv } from "../../box/env.ts";
import { serveBox } from "../../box/serve.ts";
import { waitFor } from "./wait-for.ts";

export const TEST_TOKEN = "test-token-0123456789-abcdefghijklmnop";

export type BoxHarness = Awaited<ReturnType<typeof startTestBox>>;

/**
 * A real box on loopback (real opencode, scripted model) over a temp data dir. `call` sends the box's
 * own token: TEST_TOKEN, or the one it got when it registered (env OCWEB_REGISTRATION_KEY).
 */
export async function startTestBox(opts: { baseUrl: string; dataDir?: string; port?: number; env?: Record<string, string> }) {
  const dataDir = opts.dataDir ?? mkdtempSync(path.join(os.tmpdir(), "ocweb-box-"));
  const env = parseBoxEnv({
    PATH: process.env.PATH,
    BOX_TOKEN: TEST_TOKEN,
    BOX_PORT: String(opts.port ?? 0),
    OCWEB_DATA: dataDir,
    GIT_BASE_URL: opts.baseUrl,
    OCWEB_DEMO_MODEL: "1",
    ...opts.env,
  });
  const lines: string[] = [];
  const running = await serveBox(env, (line) => lines.push(line));
  const call = async (method: string, route: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(running.url + route, {
      method,
      headers: { authorization: `Bearer ${running.box.services.token}`, ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, json: text ? safeJson(text) : undefined };
  };
  return {
    ...running,
    dataDir,
    lines,
    call,
    /** Polls GET /mgmt/chats/:id until `done` holds (the box's own view of the chat). */
    async waitForChat(chatId: string, done: (chat: Record<string, unknown>) => boolean, timeoutMs = 30_000) {
      let last: Record<string, unknown> | undefined;
      return waitFor(`chat ${chatId} to reach the expected state`, async () => {
        last = (await call("GET", `/mgmt/chats/${chatId}`)).json as Record<string, unknown>;
        return last && done(last) ? last : undefined;
      }, timeoutMs, () => last);
    },
    async dispose(opts: { keepData?: boolean } = {}) {
      await running.close();
      if (!opts.keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

let counter = 0;
/** A fresh chat id in ULID shape. */
export function newChatId(): string {
  const time = Date.now().toString(32).toUpperCase().padStart(10, "0");
  const rest = (++counter).toString(32).toUpperCase().padStart(16, "0");
  return (time + rest).replace(/[^0-9A-Z]/g, "0").slice(0, 26);
}
