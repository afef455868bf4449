import type { IntruderStack } from "./stack.ts";

/** Columns that move on their own (heartbeats, leases, clocks): left out of the comparison. */
const VOLATILE = new Set(["last_activity_at", "last_seen_at", "delivery_lease_until", "updated_at", "used_at"]);

type Target = { sessionId: string; directory: string };

/**
 * What an intruder could change, as lines of text: every row of every worker table, the box's chats
 * and clones, and the victim's opencode session (its title, archive/revert/share marks, messages).
 */
export async function snapshot(stack: IntruderStack, victim: Target): Promise<string[]> {
  const db = stack.worker.sqlClient;
  const tables = await db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '\\_%' ESCAPE '\\' AND name NOT LIKE 'libsql_%' ORDER BY name");
  const lines: string[] = [];
  for (const { name } of tables.rows) {
    const rows = await db.execute(`SELECT * FROM "${String(name)}" ORDER BY rowid`);
    for (const row of rows.rows) {
      const kept = rows.columns.filter((c) => !VOLATILE.has(c)).map((c) => `${c}=${String(row[c])}`);
      lines.push(`${String(name)}: ${kept.join(" ")}`);
    }
  }
  const chats = (await stack.box.call("GET", "/mgmt/chats")).json as { chats: Array<{ chatId: string; status: string; archived: boolean; branch: string }> };
  for (const c of chats.chats) lines.push(`box chat: ${c.chatId} ${c.status} archived=${c.archived} ${c.branch}`);
  lines.push(`box repos: ${(await stack.box.call("GET", "/mgmt/repos")).text}`);
  const dir = `directory=${encodeURIComponent(victim.directory)}`;
  const session = (await stack.box.call("GET", `/oc/session/${victim.sessionId}?${dir}`)).json as Record<string, unknown>;
  const { title, time, revert, share } = session as { title?: string; time?: { archived?: number }; revert?: unknown; share?: unknown };
  lines.push(`victim session: ${JSON.stringify({ title, archived: time?.archived, revert, share })}`);
  const messages = (await stack.box.call("GET", `/oc/session/${victim.sessionId}/message?${dir}`)).json as unknown[];
  lines.push(`victim messages: ${messages.length}`);
  return lines;
}

/** Lines in one snapshot and not the other, marked - (gone) and + (new). */
export function changes(before: string[], after: string[]): string[] {
  const was = new Set(before);
  const is = new Set(after);
  return [...before.filter((l) => !is.has(l)).map((l) => `- ${l}`), ...after.filter((l) => !was.has(l)).map((l) => `+ ${l}`)];
}

/** Runs `phase` and flags every state change it left behind. */
export async function watched(stack: IntruderStack, victim: Target, flag: (detail: string) => void, phase: () => Promise<void>) {
  const before = await snapshot(stack, victim);
  await phase();
  const diff = changes(before, await snapshot(stack, victim));
  if (diff.length > 0) flag(`state changed:\n${diff.join("\n")}`);
}

/** Waits until nothing moves on its own any more (late webhooks of the setup's runs), at most `timeoutMs`. */
export async function settled(stack: IntruderStack, victim: Target, timeoutMs = 30_000) {
  const until = Date.now() + timeoutMs;
  let last = await snapshot(stack, victim);
  while (Date.now() < until) {
    await new Promise((r) => setTimeout(r, 1_500));
    const now = await snapshot(stack, victim);
    if (changes(last, now).length === 0) return;
    last = now;
  }
  throw new Error("the state kept changing on its own: a phase could not tell an intruder's change from it");
}
