import type { Db } from "../db/client.ts";

/** A chat's running totals as the box reports them when a run ends (sums over its assistant messages). */
export type ChatUsage = { cost: number; tokensIn: number; tokensOut: number };

/** Stores the chat's new totals and adds the difference to the user's day (filled by the cost work). */
export async function recordUsage(_db: Db, _chatId: string, _usage: ChatUsage, _at: Date): Promise<void> {}
