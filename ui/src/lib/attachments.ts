import { createSignal } from "solid-js";

/** An image as a prompt carries it to opencode (a file part). */
export type Attachment = { mime: string; url: string; filename?: string };

// The worker's limits (lib/prompt-input.ts), restated so this chunk does not ship zod; a unit test keeps them equal.
export const MAX_FILES = 10;
export const MAX_TOTAL_CHARS = 4 * 1024 * 1024;
/** Refused before decoding: a phone can run out of memory drawing a huge image. */
export const MAX_INPUT_BYTES = 40 * 1024 * 1024;
/** Bigger photos are redrawn as a JPEG that fits this box: a 12 MP photo is then ~0.5 MB, not 8 MB of base64. */
export const MAX_SIDE = 2048;
const REENCODE_OVER_BYTES = 2 * 1024 * 1024;
const JPEG_QUALITY = 0.85;
const SENDABLE = new Set(["image/png", "image/jpeg", "image/webp", "image/gif"]);

export const megabytes = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;

/** The size that fits within max × max, keeping the aspect ratio; never enlarged. */
export function fitWithin(width: number, height: number, max = MAX_SIDE): { width: number; height: number } {
  const scale = Math.min(1, max / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/** Adds what fits the worker's limits, in order; says what was left out and why. */
export function addWithinLimits(current: Attachment[], incoming: Attachment[]): { files: Attachment[]; error?: string } {
  const files = [...current];
  let total = current.reduce((n, f) => n + f.url.length, 0);
  const tooMany: string[] = [];
  const tooBig: string[] = [];
  for (const f of incoming) {
    if (files.length >= MAX_FILES) tooMany.push(f.filename ?? "image");
    else if (total + f.url.length > MAX_TOTAL_CHARS) tooBig.push(f.filename ?? "image");
    else {
      files.push(f);
      total += f.url.length;
    }
  }
  const errors = [
    tooMany.length ? `At most ${MAX_FILES} images per message: ${tooMany.join(", ")} left out.` : "",
    tooBig.length ? `Images must total at most ${megabytes(MAX_TOTAL_CHARS)}: ${tooBig.join(", ")} left out.` : "",
  ].filter(Boolean);
  return { files, error: errors.length ? errors.join(" ") : undefined };
}

/** What localStorage may spend on unsent images; browsers give an origin about 5 MB in all. */
export const STORE_BUDGET_CHARS = 2_500_000;

/**
 * Unsent prompts as they can be kept across a reload: oldest first, images while they fit the budget;
 * one whose images do not fit is kept without them, counted in filesDropped, so the reload can say so.
 */
export function storable<T extends { files?: Attachment[] }>(items: T[], budget = STORE_BUDGET_CHARS): Array<T & { filesDropped?: number }> {
  let used = 0;
  return items.map((item) => {
    const size = item.files?.reduce((n, f) => n + f.url.length, 0) ?? 0;
    if (!item.files?.length || used + size <= budget) {
      used += size;
      return item;
    }
    return { ...item, files: [], filesDropped: item.files.length };
  });
}

/** Image files in a paste or a drop (a screenshot pasted from the clipboard arrives as image.png). */
export function imageFiles(data: DataTransfer | null): File[] {
  return Array.from(data?.files ?? []).filter((f) => f.type.startsWith("image/"));
}

function readAsDataUrl(blob: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error ?? new Error("could not read the file"));
    reader.readAsDataURL(blob);
  });
}

async function decode(file: File): Promise<HTMLImageElement> {
  const url = URL.createObjectURL(file);
  try {
    const img = new Image();
    img.src = url;
    await img.decode();
    return img;
  } finally {
    URL.revokeObjectURL(url);
  }
}

function toJpeg(img: HTMLImageElement): Promise<Blob> {
  const size = fitWithin(img.naturalWidth, img.naturalHeight);
  const canvas = document.createElement("canvas");
  canvas.width = size.width;
  canvas.height = size.height;
  const ctx = canvas.getContext("2d");
  if (!ctx) return Promise.reject(new Error("no canvas"));
  ctx.fillStyle = "#fff"; // JPEG has no alpha: transparent screenshots would turn black
  ctx.fillRect(0, 0, size.width, size.height);
  ctx.drawImage(img, 0, 0, size.width, size.height);
  return new Promise((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error("could not encode"))), "image/jpeg", JPEG_QUALITY));
}

/** A picked or pasted image as a data URL: kept byte for byte when small, else redrawn as a JPEG within MAX_SIDE. */
export async function toAttachment(file: File): Promise<Attachment> {
  const name = file.name || "image";
  if (!file.type.startsWith("image/")) throw new Error(`${name} is not an image.`);
  if (file.size > MAX_INPUT_BYTES) throw new Error(`${name} is ${megabytes(file.size)}; pick an image under ${megabytes(MAX_INPUT_BYTES)}.`);
  const img = await decode(file).catch(() => undefined);
  if (!img) throw new Error(`${name} could not be read as an image.`);
  const big = Math.max(img.naturalWidth, img.naturalHeight) > MAX_SIDE || file.size > REENCODE_OVER_BYTES;
  if (!big && SENDABLE.has(file.type)) return { mime: file.type, url: await readAsDataUrl(file), filename: name };
  const jpeg = await toJpeg(img);
  return { mime: "image/jpeg", url: await readAsDataUrl(jpeg), filename: name.replace(/\.[^.]*$/, "") + ".jpg" };
}

/** The images of one message being written: add (shrinking as needed), remove, clear, and what went wrong. */
export function createAttachments() {
  const [items, setItems] = createSignal<Attachment[]>([]);
  const [pending, setPending] = createSignal(0);
  const [error, setError] = createSignal<string>();

  async function add(files: File[]): Promise<void> {
    if (files.length === 0) return;
    setError(undefined);
    setPending((n) => n + files.length);
    const read = await Promise.all(files.map((f) => toAttachment(f).catch((err: Error) => err)));
    setPending((n) => n - files.length);
    const ok = read.filter((r): r is Attachment => !(r instanceof Error));
    const failed = read.filter((r): r is Error => r instanceof Error).map((e) => e.message);
    const next = addWithinLimits(items(), ok);
    setItems(next.files);
    const message = [...failed, next.error ?? ""].filter(Boolean).join(" ");
    setError(message || undefined);
  }

  return {
    items,
    error,
    /** Images still being read or shrunk. */
    busy: () => pending() > 0,
    add,
    /** For onPaste: takes the images, and keeps the default paste only when there is text too. */
    paste(e: ClipboardEvent): void {
      const files = imageFiles(e.clipboardData);
      if (files.length === 0) return;
      if (!e.clipboardData?.getData("text/plain")) e.preventDefault();
      void add(files);
    },
    remove(index: number): void {
      setItems((all) => all.filter((_, i) => i !== index));
      setError(undefined);
    },
    clear(): void {
      setItems([]);
      setError(undefined);
    },
  };
}

export type Attachments = ReturnType<typeof createAttachments>;
