import { z } from "zod";

/** What a prompt may carry, checked the same way at the worker (first) and at the box. */
// base64 data URLs, all files together; a prompt row must stay under libsql's ~5 MB per value
export const MAX_ATTACHMENT_BYTES = 4 * 1024 * 1024;

export const modelSchema = z.string().max(200).regex(/^[\w.@-]+\/[\w.:@/-]+$/, "model must be provider/model");
export const promptTextSchema = z.string().trim().min(1, "text must not be empty").max(100_000);

const fileSchema = z.object({
  mime: z.string().max(100).regex(/^[\w.+-]+\/[\w.+-]+$/, "mime must look like type/subtype"),
  url: z.string().regex(/^data:/, "file url must be a data: URL"),
  filename: z.string().max(255).optional(),
});

export const promptFilesSchema = z
  .array(fileSchema)
  .max(10, "at most 10 attachments")
  .refine((files) => files.reduce((n, f) => n + f.url.length, 0) <= MAX_ATTACHMENT_BYTES, "attachments must total at most 4 MB");
