import { LRUCache } from "lru-cache";
import type { SessionUser } from "./context.ts";

/**
 * Per-isolate caches for the opencode pass-through only (/api/box/oc/*), which the UI calls for every
 * message page, reply and event stream: without them each call pays two Turso round trips.
 * A revoked session may still pass there for SESSION_TTL_MS in an isolate that did not see the
 * logout; every other route always asks Turso.
 */
export const SESSION_TTL_MS = 10_000;
export const sessionCache = new LRUCache<string, SessionUser>({ max: 1_000, ttl: SESSION_TTL_MS });

/** (user, session id or directory) → the chat's directory. A chat never changes owner. */
export const ownershipCache = new LRUCache<string, string>({ max: 5_000, ttl: 60_000 });
