import { createOpencodeClient, type OpencodeClient } from "@opencode-ai/sdk/v2/client";

export type { OpencodeClient };

/**
 * A v2 client for the supervised opencode, on the SDK's default (global) fetch. Normal calls answer
 * fast; a turn goes through prompt_async plus events, never the synchronous message POST, which dies
 * at undici's 300 s headers timeout.
 */
export function ocClient(sup: { url: string; authHeader: string }, directory?: string): OpencodeClient {
  return createOpencodeClient({
    baseUrl: sup.url,
    directory,
    headers: { Authorization: sup.authHeader },
  });
}
