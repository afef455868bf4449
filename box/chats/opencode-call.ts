import { ApiError } from "../../lib/api-error.ts";

type SdkResult<T> = { data?: T; error?: unknown; response?: Response };

/** Turns an SDK call into its data, or an ApiError that says what opencode answered. */
export async function unwrap<T>(what: string, call: Promise<SdkResult<T>>): Promise<T> {
  let result: SdkResult<T>;
  try {
    result = await call;
  } catch (err) {
    throw new ApiError(503, "opencode_unavailable", `${what}: opencode is not reachable (${(err as Error).message})`);
  }
  const status = result.response?.status ?? 0;
  if (result.error === undefined && status < 400) return result.data as T;
  const message = describe(result.error) ?? `status ${status}`;
  if (status === 404) throw new ApiError(404, "not_found", `${what}: ${message}`);
  if (status === 409) throw new ApiError(409, "busy", `${what}: ${message}`);
  if (status >= 400 && status < 500) throw new ApiError(400, "opencode_rejected", `${what}: ${message}`);
  throw new ApiError(502, "opencode_error", `${what}: ${message}`);
}

function describe(error: unknown): string | undefined {
  if (!error || typeof error !== "object") return typeof error === "string" && error ? error : undefined;
  const e = error as { data?: { message?: string }; message?: string; name?: string };
  return e.data?.message ?? e.message ?? e.name;
}
