import { Cron } from "croner";
import { z } from "zod";

const FIELDS = "minute hour day-of-month month day-of-week";
/** Counting the slots a schedule missed stops here: the number is for the run history, not for running them. */
const MAX_COUNTED = 500;

/** A standard 5-field cron expression, evaluated in UTC. Throws an Error whose message says what is wrong. */
export function parseCron(expression: string): Cron {
  const fields = expression.trim().split(/\s+/).filter(Boolean);
  if (fields.length !== 5) {
    const seconds = fields.length === 6 ? " (seconds are not supported)" : "";
    throw new Error(`must have 5 fields (${FIELDS}), got ${fields.length}${seconds}`);
  }
  let cron: Cron;
  try {
    cron = new Cron(fields.join(" "), { mode: "5-part", timezone: "UTC" });
  } catch (err) {
    const reason = (err as Error).message.replace(/^CronPattern:\s*/, "");
    throw new Error(reason.charAt(0).toLowerCase() + reason.slice(1));
  }
  if (!cron.nextRun(new Date())) throw new Error("never runs (no date matches)");
  return cron;
}

/** The expression as stored: trimmed, single spaces; a zod error carries croner's reason. */
export const cronSchema = z.string().max(200).transform((value, ctx) => {
  try {
    parseCron(value);
    return value.trim().split(/\s+/).join(" ");
  } catch (err) {
    ctx.addIssue({ code: "custom", message: (err as Error).message });
    return z.NEVER;
  }
});

/** The latest run at or before `now` (croner's previousRuns excludes the reference instant itself). */
export function latestRunAtOrBefore(cron: Cron, now: Date): Date | undefined {
  return cron.previousRuns(1, new Date(now.getTime() + 1))[0];
}

/** How many runs fall in [from, to), counting no further than MAX_COUNTED; `capped` when it stopped there. */
export function runsBetween(cron: Cron, from: Date, to: Date): { count: number; capped: boolean } {
  let count = 0;
  let at: Date | null = new Date(from.getTime() - 1);
  while (count < MAX_COUNTED) {
    at = cron.nextRun(at);
    if (!at || at.getTime() >= to.getTime()) return { count, capped: false };
    count++;
  }
  return { count, capped: true };
}
