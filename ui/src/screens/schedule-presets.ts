/**
 * Schedules run on UTC cron expressions; people think in their own time. Presets are written in the
 * phone's local time and turned into UTC with today's offset (a daylight-saving change later moves
 * them by an hour). Pure functions, unit-tested in tests/ui/schedule-presets.unit.test.ts.
 */

export type PresetId = "nightly" | "weekdays" | "hourly";
export const PRESETS: Array<{ id: PresetId; label: string }> = [
  { id: "nightly", label: "Every night at 02:00" },
  { id: "weekdays", label: "Weekdays at 09:00" },
  { id: "hourly", label: "Every hour" },
];

const DAY_MINUTES = 24 * 60;
const mod = (n: number, m: number) => ((n % m) + m) % m;

/** Minutes east of UTC right now on this phone (+330 in India, -300 in New York in winter). */
export const localOffset = (at = new Date()) => -at.getTimezoneOffset();

/** A daily cron at local `minuteOfDay` on `days` (0 = Sunday; undefined = every day), in UTC. */
export function dailyCron(minuteOfDay: number, offset: number, days?: number[]): string {
  const utc = minuteOfDay - offset;
  const shift = Math.floor(utc / DAY_MINUTES);
  const at = mod(utc, DAY_MINUTES);
  const dow = days ? dayList(days.map((d) => mod(d + shift, 7))) : "*";
  return `${at % 60} ${Math.floor(at / 60)} * * ${dow}`;
}

/** "1-5" for [1,2,3,4,5], "0-4" or "0,2,4" otherwise: ranges where the days run on. */
export function dayList(days: number[]): string {
  const sorted = [...new Set(days)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(j - i >= 2 ? `${sorted[i]}-${sorted[j]}` : sorted.slice(i, j + 1).join(","));
    i = j + 1;
  }
  return parts.join(",");
}

export function presetCron(id: PresetId, offset: number): string {
  if (id === "nightly") return dailyCron(2 * 60, offset);
  if (id === "weekdays") return dailyCron(9 * 60, offset, [1, 2, 3, 4, 5]);
  return `${mod(-offset, 60)} * * * *`;
}

/** The preset a cron expression is (at this offset), if any. */
export const presetOf = (cron: string, offset: number): PresetId | undefined => PRESETS.find((p) => presetCron(p.id, offset) === cron)?.id;

/** What a schedule's "when" reads like: a preset's name, or the expression itself. */
export function describeCron(cron: string, offset: number): string {
  const id = presetOf(cron, offset);
  return id ? PRESETS.find((p) => p.id === id)!.label : `cron ${cron} (UTC)`;
}

/** A run time in the phone's own time: "Sat, Nov 22, 02:00". */
export const runTime = (iso: string) =>
  new Date(iso).toLocaleString(undefined, { weekday: "short", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
