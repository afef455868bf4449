import { and, desc, eq } from "drizzle-orm";
import { notFound } from "../../lib/api-error.ts";
import type { Db } from "../db/client.ts";
import { chats, prompts, scheduleRuns, schedules } from "../db/schema.ts";
import { parseCron } from "./cron.ts";
import { FIRST_RUN } from "./runner.ts";

type ScheduleRow = typeof schedules.$inferSelect;
const HISTORY = 20;

/** The user's schedule, or 404: another user's schedule is indistinguishable from none. */
export async function ownSchedule(db: Db, userId: string, id: string): Promise<ScheduleRow> {
  const row = await db.query.schedules.findFirst({ where: and(eq(schedules.id, id), eq(schedules.userId, userId)) });
  if (!row) throw notFound(`no schedule ${id}`);
  return row;
}

/** A schedule as the API shows it, with its next `count` runs (none while paused). */
export function scheduleView(s: ScheduleRow, now: Date, count = 3) {
  return {
    id: s.id,
    repo: s.repo,
    base: s.base ?? undefined,
    prompt: s.prompt,
    model: s.model ?? undefined,
    cron: s.cron,
    reuse: s.reuseChatId !== null,
    chatId: s.reuseChatId && s.reuseChatId !== FIRST_RUN ? s.reuseChatId : undefined,
    paused: s.paused,
    nextRunAt: s.nextRunAt?.toISOString(),
    lastRunAt: s.lastRunAt?.toISOString(),
    createdAt: s.createdAt.toISOString(),
    next: s.paused ? [] : upcoming(s.cron, now, count),
  };
}

export function upcoming(cron: string, now: Date, count: number): string[] {
  try {
    return parseCron(cron).nextRuns(count, now).map((d) => d.toISOString());
  } catch {
    return [];
  }
}

/**
 * The last runs, newest first. status: "skipped" (missed slots, see error), "failed", "starting",
 * "deleted" (its chat is gone), the prompt's "queued", or, for the chat's newest run, the chat's
 * status ("busy", "idle", "error", "interrupted", "needs_you"); an older run in a reused chat is "sent".
 */
export async function runHistory(db: Db, scheduleId: string) {
  const rows = await db
    .select({ run: scheduleRuns, chat: chats, prompt: prompts })
    .from(scheduleRuns)
    .leftJoin(chats, eq(chats.id, scheduleRuns.chatId))
    .leftJoin(prompts, eq(prompts.id, scheduleRuns.promptId))
    .where(eq(scheduleRuns.scheduleId, scheduleId))
    .orderBy(desc(scheduleRuns.scheduledFor))
    .limit(HISTORY);
  const newest = new Set<string>();
  return rows.map(({ run, chat, prompt }) => {
    const first = chat !== null && !newest.has(chat.id);
    if (chat) newest.add(chat.id);
    return {
      id: run.id,
      scheduledFor: run.scheduledFor.toISOString(),
      ranAt: run.createdAt.toISOString(),
      chatId: chat?.id,
      title: chat?.title ?? undefined,
      status: runStatus(run, chat, prompt, first),
      error: run.error ?? prompt?.error ?? (first && chat?.status === "error" ? chat.error : null) ?? undefined,
    };
  });
}

function runStatus(
  run: typeof scheduleRuns.$inferSelect,
  chat: typeof chats.$inferSelect | null,
  prompt: typeof prompts.$inferSelect | null,
  newestInChat: boolean,
): string {
  if (run.promptId === null) return "skipped";
  if (run.error) return "failed";
  if (!run.chatId) return "starting";
  if (!chat) return "deleted";
  if (!prompt || prompt.state === "failed") return "failed";
  if (prompt.state === "queued") return "queued";
  if (!newestInChat) return "sent";
  return chat.needsYou ? "needs_you" : chat.status;
}
