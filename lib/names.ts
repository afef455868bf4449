import { z } from "zod";

const segment = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,100}$/, "must be 1-100 of A-Z a-z 0-9 _ . -")
  .refine((s) => s !== "." && s !== "..", "must not be . or ..")
  .refine((s) => !s.toLowerCase().endsWith(".git"), "must not end in .git")
  .refine((s) => !s.startsWith("-"), "must not start with -");

export const ownerSchema = segment;
export const repoNameSchema = segment;

/** "owner/name" as ARCHITECTURE.md defines it. */
export const repoSchema = z
  .string()
  .max(201)
  .refine((s) => {
    const parts = s.split("/");
    return parts.length === 2 && parts.every((p) => segment.safeParse(p).success);
  }, "repo must be owner/name, each 1-100 of A-Z a-z 0-9 _ . - (not . or .., not ending in .git)");

export const chatIdSchema = z.string().regex(/^[0-9A-Z]{26}$/, "chatId must be a ULID (26 of 0-9 A-Z)");
export const promptIdSchema = z.string().regex(/^[0-9A-Za-z_-]{1,64}$/, "promptId must be 1-64 of A-Z a-z 0-9 _ -");

/** A branch or ref name the caller may pass as a base: no options, no traversal, no ref syntax tricks. */
export const refSchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9._/-]+$/, "base must be a branch name of A-Z a-z 0-9 . _ / -")
  .refine((s) => !s.startsWith("-") && !s.startsWith("/") && !s.endsWith("/"), "base must not start with - or /")
  .refine((s) => !s.includes("..") && !s.includes("//") && !s.endsWith(".lock") && !s.endsWith("."), "base is not a valid branch name");

export const chatBranch = (chatId: string) => `ocweb/${chatId}`;

/**
 * The opencode session an API path is about (`/session/ses_…/…`), if any; `/session/status` is not one.
 * Read as opencode routes it: percent-decoded (`/session/%73es_…`, `ses_…%2Fmessage`) and ignoring case.
 */
export function sessionIdIn(path: string): string | undefined {
  let decoded = path;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    // Malformed percent-encoding: the box refuses the path (400).
  }
  return /^\/session\/(ses_[A-Za-z0-9]+)(\/|$)/i.exec(decoded)?.[1];
}
