import { ApiError } from "../../lib/api-error.ts";
import type { Env } from "../env.ts";

const CALL_TIMEOUT_MS = 15_000;

export type BoxClient = ReturnType<typeof boxClient>;

/** The worker's only way to the box: bearer auth, a timeout on every call but streams, clear errors. */
export function boxClient(env: Env, fetchImpl: typeof fetch = fetch) {
  const base = env.BOX_URL?.replace(/\/+$/, "");
  const token = env.BOX_TOKEN ?? "";

  async function send(path: string, init: RequestInit & { timeoutMs?: number | null }): Promise<Response> {
    if (!base) throw new ApiError(503, "box_unavailable", "no box is configured (BOX_URL)");
    const headers = new Headers(init.headers);
    headers.set("authorization", `Bearer ${token}`);
    const timeout = init.timeoutMs === null ? undefined : AbortSignal.timeout(init.timeoutMs ?? CALL_TIMEOUT_MS);
    const signal = timeout && init.signal ? AbortSignal.any([timeout, init.signal]) : (timeout ?? init.signal);
    try {
      return await fetchImpl(base + path, { ...init, headers, signal });
    } catch (err) {
      const timedOut = (err as Error).name === "TimeoutError";
      throw new ApiError(503, "box_unavailable", timedOut ? "your box did not answer in time" : "your box is unreachable");
    }
  }

  return {
    configured: Boolean(base),

    /** JSON call; a box error comes back as the same status and message, a box fault as 502. */
    async call<T>(method: string, path: string, body?: unknown, timeoutMs?: number): Promise<T> {
      const res = await send(path, {
        method,
        timeoutMs,
        headers: body === undefined ? {} : { "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      if (res.status === 204) return undefined as T;
      const text = await res.text();
      const json = text ? (JSON.parse(text) as { error?: { code?: string; message?: string } }) : undefined;
      if (res.ok) return json as T;
      const message = json?.error?.message ?? `box answered ${res.status}`;
      if (res.status === 401) throw new ApiError(503, "box_unavailable", "the box refused the worker's token (BOX_TOKEN mismatch)");
      if (res.status >= 500) throw new ApiError(res.status === 503 ? 503 : 502, json?.error?.code ?? "box_error", message);
      throw new ApiError(res.status as 400, json?.error?.code ?? "box_rejected", message);
    },

    /** A pass-through request: streams both ways, no timeout (SSE). */
    stream(path: string, init: RequestInit): Promise<Response> {
      return send(path, { ...init, timeoutMs: null });
    },

    async healthy(): Promise<boolean> {
      if (!base) return false;
      const res = await send("/healthz", { timeoutMs: 2_000 }).catch(() => undefined);
      return Boolean(res?.ok);
    },
  };
}
