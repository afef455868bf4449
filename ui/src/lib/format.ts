/** Pure formatting for the screens (unit-tested in tests/ui/format.unit.test.ts). */

export type ChipStatus = "needs_you" | "busy" | "idle" | "error" | "queued" | "interrupted";

const LABELS: Record<ChipStatus, string> = {
  needs_you: "needs you",
  busy: "working",
  idle: "done",
  error: "error",
  queued: "queued",
  interrupted: "interrupted",
};

/** One chip per chat: a waiting permission or question outranks every status. */
export function chipOf(chat: { status: string; needsYou?: boolean }): { status: ChipStatus; label: string } {
  if (chat.needsYou) return { status: "needs_you", label: LABELS.needs_you };
  const status = (chat.status in LABELS ? chat.status : "queued") as ChipStatus;
  return { status, label: LABELS[status] };
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** "now", "5m", "3h", "2d", then a short date. */
export function relativeTime(iso: string, now: number): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return "";
  const ago = Math.max(0, now - t);
  if (ago < MINUTE) return "now";
  if (ago < HOUR) return `${Math.floor(ago / MINUTE)}m`;
  if (ago < DAY) return `${Math.floor(ago / HOUR)}h`;
  if (ago < 7 * DAY) return `${Math.floor(ago / DAY)}d`;
  const d = new Date(t);
  const sameYear = d.getFullYear() === new Date(now).getFullYear();
  return d.toLocaleDateString(undefined, sameYear ? { month: "short", day: "numeric" } : { year: "numeric", month: "short", day: "numeric" });
}

const UNITS = ["B", "KB", "MB", "GB", "TB"];

/** 1536 → "1.5 KB" (powers of 1024, one decimal under 10). */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return "?";
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  const digits = unit === 0 || value >= 10 ? 0 : 1;
  return `${value.toFixed(digits)} ${UNITS[unit]}`;
}

/** What the row shows for changed files: "+12 −3", or "2 files" while the line counts are unknown. */
export function diffLabel(chat: { filesChanged: number; additions: number; deletions: number }): string | undefined {
  if (chat.additions > 0 || chat.deletions > 0) return `+${chat.additions} \u2212${chat.deletions}`;
  if (chat.filesChanged > 0) return chat.filesChanged === 1 ? "1 file" : `${chat.filesChanged} files`;
  return undefined;
}

export { ulid as newUlid } from "../../../lib/ulid.ts";

/** How long since `iso`: "<1m", "12m", "3h", "4d". */
export function age(iso: string, now: number): string {
  const ms = Math.max(0, now - Date.parse(iso));
  if (Number.isNaN(ms)) return "?";
  if (ms < MINUTE) return "<1m";
  if (ms < HOUR) return `${Math.floor(ms / MINUTE)}m`;
  if (ms < DAY) return `${Math.floor(ms / HOUR)}h`;
  return `${Math.floor(ms / DAY)}d`;
}
