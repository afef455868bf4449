import { ApiError } from "../../lib/api-error.ts";
import type { Env } from "../env.ts";

const CALL_TIMEOUT_MS = 15_000;

/** The API's id for the box the worker's environment configures (BOX_URL, BOX_TOKEN); chats.boxId null. */
export const ENV_BOX_ID = "env";
export const ENV_BOX_NAME = "default box";

/** One box: where it is, the bearer the worker sends it, and whether it was retired. */
export type BoxTarget = { id: string; name: string; url: string | null; token: string; retired?: boolean };

export const envBox = (env: Env): BoxTarget => ({ id: ENV_BOX_ID, name: ENV_BOX_NAME, url: env.BOX_URL ?? null, token: env.BOX_TOKEN ?? "" });

export type BoxClient = ReturnType<typeof boxClient>;

/** The worker's only way to a box: bearer auth, a timeout on every call but streams, clear errors. */
export function boxClient(target: BoxTarget, fetchImpl: typeof fetch = fetch) {
  const base = target.url?.replace(/\/+$/, "");
  const isEnv = target.id === ENV_BOX_ID;
  const named = isEnv ? "your box" : `box "${target.name}"`;

  async function send(path: string, init: RequestInit & { timeoutMs?: number | null }): Promise<Response> {
    if (target.retired) throw new ApiError(409, "box_retired", `${named} was retired: its chats stay listed but can no longer run`);
    if (!base) throw new ApiError(503, "box_unavailable", isEnv ? "no box is configured (BOX_URL)" : `${named} has not registered yet`);
    const headers = new Headers(init.headers);
    headers.set("authorization", `Bearer ${target.token}`);
    const timeout = init.timeoutMs === null ? undefined : AbortSignal.timeout(init.timeoutMs ?? CALL_TIMEOUT_MS);
    const signal = timeout && init.signal ? AbortSignal.any([timeout, init.signal]) : (timeout ?? init.signal);
    try {
      return await fetchImpl(base + path, { ...init, headers, signal });
    } catch (err) {
      const timedOut = (err as Error).name === "TimeoutError";
      throw new ApiError(503, "box_unavailable", timedOut ? `${named} did not answer in time` : `${named} is unreachable`);
    }
  }

  return {
    id: target.id,
    name: target.name,
    configured: Boolean(base) && !target.retired,
    retired: Boolean(target.retired),

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
      if (res.status === 401) {
        throw new ApiError(503, "box_unavailable", isEnv ? "the box refused the worker's token (BOX_TOKEN mismatch)" : `${named} refused the worker's token: register it again`);
      }
      if (res.status >= 500) throw new ApiError(res.status === 503 ? 503 : 502, json?.error?.code ?? "box_error", message);
      throw new ApiError(res.status as 400, json?.error?.code ?? "box_rejected", message);
    },

    /** A pass-through request: streams both ways, no timeout (SSE). */
    stream(path: string, init: RequestInit): Promise<Response> {
      return send(path, { ...init, timeoutMs: null });
    },

    async healthy(): Promise<boolean> {
      if (!base || target.retired) return false;
      const res = await send("/healthz", { timeoutMs: 2_000 }).catch(() => undefined);
      await res?.body?.cancel();
      return Boolean(res?.ok);
    },
  };
}
