import { and, eq, gte, or, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { chats, usageDaily } from "../db/schema.ts";

/** A chat's running totals as the box reports them when a run ends (sums over its assistant messages). */
export type ChatUsage = { cost: number; tokensIn: number; tokensOut: number };
export type DayUsage = { day: string; costUsd: number; tokensIn: number; tokensOut: number };

const DAY_MS = 24 * 60 * 60 * 1000;

/** The UTC day of `at` as YYYY-MM-DD. */
export const utcDay = (at: Date) => at.toISOString().slice(0, 10);

/**
 * Raises the chat's totals to the reported ones and adds what grew to the user's UTC day of `at`.
 * One transaction, no read first: the same totals twice add nothing, and a stale event carrying
 * smaller totals changes nothing (each total only ever goes up).
 */
export async function recordUsage(db: Db, chatId: string, usage: ChatUsage, at: Date): Promise<void> {
  const { cost, tokensIn, tokensOut } = usage;
  const grew = or(sql`${cost} > ${chats.costUsd}`, sql`${tokensIn} > ${chats.tokensIn}`, sql`${tokensOut} > ${chats.tokensOut}`);
  await db.batch([
    // Reads the chat's old totals, so it must run before the update below.
    db.insert(usageDaily)
      .select((qb) => qb.select({
        userId: chats.userId,
        day: sql<string>`${utcDay(at)}`.as("day"),
        costUsd: sql<number>`max(${cost} - ${chats.costUsd}, 0)`.as("cost_usd"),
        tokensIn: sql<number>`max(${tokensIn} - ${chats.tokensIn}, 0)`.as("tokens_in"),
        tokensOut: sql<number>`max(${tokensOut} - ${chats.tokensOut}, 0)`.as("tokens_out"),
      }).from(chats).where(and(eq(chats.id, chatId), grew)))
      .onConflictDoUpdate({
        target: [usageDaily.userId, usageDaily.day],
        set: {
          costUsd: sql`${usageDaily.costUsd} + excluded.cost_usd`,
          tokensIn: sql`${usageDaily.tokensIn} + excluded.tokens_in`,
          tokensOut: sql`${usageDaily.tokensOut} + excluded.tokens_out`,
        },
      }),
    db.update(chats).set({
      costUsd: sql`max(${chats.costUsd}, ${cost})`,
      tokensIn: sql`max(${chats.tokensIn}, ${tokensIn})`,
      tokensOut: sql`max(${chats.tokensOut}, ${tokensOut})`,
    }).where(eq(chats.id, chatId)),
  ]);
}

/** The user's last `days` UTC days up to `now`, oldest first, days without usage as zeros. */
export async function usageByDay(db: Db, userId: string, days: number, now: Date): Promise<DayUsage[]> {
  const wanted = Array.from({ length: days }, (_, i) => utcDay(new Date(now.getTime() - (days - 1 - i) * DAY_MS)));
  const rows = await db.select().from(usageDaily).where(and(eq(usageDaily.userId, userId), gte(usageDaily.day, wanted[0]!)));
  const byDay = new Map(rows.map((r) => [r.day, r]));
  return wanted.map((day) => {
    const r = byDay.get(day);
    return { day, costUsd: r?.costUsd ?? 0, tokensIn: r?.tokensIn ?? 0, tokensOut: r?.tokensOut ?? 0 };
  });
}
