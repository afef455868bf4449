import { hc } from "hono/client";
import type { AppType } from "../../../worker/app.ts";

/** The worker's API, typed from its Hono app (types only: nothing of the worker ships to the browser). */
export const api = hc<AppType>("/");

export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Reads a response as JSON, or throws the worker's {"error":{code,message}} as an ApiFailure. */
export async function json<T>(res: Response | Promise<Response>): Promise<T> {
  const r = await res;
  if (r.status === 204) return undefined as T;
  const body = (await r.json().catch(() => undefined)) as { error?: { code: string; message: string } } | undefined;
  if (!r.ok) throw new ApiFailure(r.status, body?.error?.code ?? "http_error", body?.error?.message ?? `request failed (${r.status})`);
  return body as T;
}
