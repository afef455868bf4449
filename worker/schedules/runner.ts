import { and, asc, eq, lte } from "drizzle-orm";
import { ulid } from "../../lib/ulid.ts";
import { createChat } from "../chats/create-chat.ts";
import type { Db } from "../db/client.ts";
import { boxes, chats, prompts, scheduleRuns, schedules } from "../db/schema.ts";
import { latestRunAtOrBefore, parseCron, runsBetween } from "./cron.ts";

type Schedule = typeof schedules.$inferSelect;
/** chats.boxId for a run's new chat (null: the env box). */
type PickBox = (userId: string) => Promise<string | null>;

/** reuse_chat_id while a schedule wants one chat for all its runs and its first run has not made it yet. */
export const FIRST_RUN = "first-run";
const PER_INVOCATION = 10;

/** A run's prompt id, written with its run row: a retried run sends the same prompt, which the box runs once. */
export const runPromptId = (runId: string) => `sched-${runId}`;

/**
 * Fires every schedule due at `now` (a bounded batch): writes its run, then its chat or prompt, all as
 * outbox rows, so a box that is down gets them later. Answers the chats that got something to deliver.
 */
export async function runDueSchedules(db: Db, now: Date, opts: { limit?: number; boxFor?: PickBox } = {}): Promise<string[]> {
  const { limit = PER_INVOCATION, boxFor = async () => null } = opts;
  const due = await db.select().from(schedules)
    .where(and(eq(schedules.paused, false), lte(schedules.nextRunAt, now)))
    .orderBy(asc(schedules.nextRunAt))
    .limit(limit);
  const started: string[] = [];
  for (const schedule of due) {
    const chatId = await fire(db, schedule, now, boxFor).catch((err: unknown) => {
      console.error(`schedule ${schedule.id}:`, err);
      return undefined;
    });
    if (chatId) started.push(chatId);
  }
  return started;
}

/**
 * One firing: only the latest slot due runs, once (the unique slot row decides); slots missed before
 * it (the cron was not running) get one "skipped" row in the history instead of a burst of chats.
 */
async function fire(db: Db, schedule: Schedule, now: Date, boxFor: PickBox): Promise<string | undefined> {
  const pending = schedule.nextRunAt!;
  let cron: ReturnType<typeof parseCron>;
  try {
    cron = parseCron(schedule.cron);
  } catch {
    await db.update(schedules).set({ nextRunAt: null }).where(eq(schedules.id, schedule.id)); // stored before validation got stricter
    return undefined;
  }
  const latest = latestRunAtOrBefore(cron, now);
  const slot = latest && latest > pending ? latest : pending;
  if (slot > pending) await recordSkipped(db, schedule.id, cron, pending, slot);

  const id = ulid();
  await db.insert(scheduleRuns).values({ id, scheduleId: schedule.id, scheduledFor: slot, promptId: runPromptId(id), createdAt: new Date() })
    .onConflictDoNothing();
  const run = (await db.query.scheduleRuns.findFirst({ where: and(eq(scheduleRuns.scheduleId, schedule.id), eq(scheduleRuns.scheduledFor, slot)) }))!;
  let chatId: string | undefined;
  if (!run.chatId && !run.error) {
    try {
      chatId = await startRun(db, schedule, run.promptId!, boxFor);
      await db.update(scheduleRuns).set({ chatId }).where(eq(scheduleRuns.id, run.id));
    } catch (err) {
      await db.update(scheduleRuns).set({ error: (err as Error).message }).where(eq(scheduleRuns.id, run.id));
    }
  }
  // Compare-and-set: an edit of the cron, or another invocation, may have moved it already.
  await db.update(schedules).set({ lastRunAt: slot, nextRunAt: cron.nextRun(now) })
    .where(and(eq(schedules.id, schedule.id), eq(schedules.nextRunAt, pending), eq(schedules.cron, schedule.cron)));
  return chatId;
}

async function isRetired(db: Db, boxId: string | null): Promise<boolean> {
  if (!boxId) return false;
  const box = await db.query.boxes.findFirst({ columns: { retiredAt: true }, where: eq(boxes.id, boxId) });
  return !box || box.retiredAt !== null;
}

/** One history row for the slots in [from, slot) that were never run; it stands at the first of them. */
async function recordSkipped(db: Db, scheduleId: string, cron: ReturnType<typeof parseCron>, from: Date, slot: Date) {
  const { count, capped } = runsBetween(cron, from, slot);
  if (count === 0) return;
  const runs = `${count}${capped ? "+" : ""} run${count === 1 ? "" : "s"}`;
  const error = `skipped ${runs} while the scheduler was not running; only the latest ran, once`;
  await db.insert(scheduleRuns).values({ id: ulid(), scheduleId, scheduledFor: from, error, createdAt: new Date() }).onConflictDoNothing();
}

/** The run's prompt, queued: in a new chat, or appended to the schedule's one chat. Answers the chat it is in. */
async function startRun(db: Db, schedule: Schedule, promptId: string, boxFor: PickBox): Promise<string> {
  const now = new Date();
  const reused = schedule.reuseChatId && schedule.reuseChatId !== FIRST_RUN
    ? await db.query.chats.findFirst({ where: and(eq(chats.id, schedule.reuseChatId), eq(chats.userId, schedule.userId)) })
    : undefined;
  // A chat that never started on the box, or whose box was retired, would hold the prompt forever: start a fresh one instead.
  if (reused && !(reused.status === "error" && !reused.sessionId) && !(await isRetired(db, reused.boxId))) {
    await db.insert(prompts).values({ id: promptId, chatId: reused.id, userId: schedule.userId, text: schedule.prompt, model: schedule.model ?? reused.model, state: "queued", createdAt: now })
      .onConflictDoNothing();
    await db.update(chats).set({ lastActivityAt: now }).where(eq(chats.id, reused.id));
    const prompt = await db.query.prompts.findFirst({ where: eq(prompts.id, promptId) });
    return prompt!.chatId;
  }
  const { chat } = await createChat(db, schedule.userId, {
    repo: schedule.repo,
    base: schedule.base ?? undefined,
    model: schedule.model ?? undefined,
    prompt: { promptId, text: schedule.prompt },
    scheduleId: schedule.id,
    boxId: await boxFor(schedule.userId),
  });
  if (schedule.reuseChatId) await db.update(schedules).set({ reuseChatId: chat.id }).where(eq(schedules.id, schedule.id));
  return chat.id;
}
