import type { ContentfulStatusCode } from "hono/utils/http-status";

/** Thrown anywhere in the box; the app's onError turns it into {"error":{code,message}}. */
export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export const badRequest = (message: string) => new ApiError(400, "bad_request", message);
export const notFound = (message: string) => new ApiError(404, "not_found", message);
export const conflict = (message: string) => new ApiError(409, "conflict", message);
export const forbidden = (message: string) => new ApiError(403, "forbidden", message);
