import { boxClient, envBox, ENV_BOX_ID } from "../box/client.ts";
import type { boxes } from "../db/schema.ts";
import { KEY_TTL_MS, userBoxes } from "./registry.ts";
import { type BoxScope, defaultBoxId, targetOf } from "./resolve.ts";

type BoxRow = typeof boxes.$inferSelect;
export type BoxHealth = "ok" | "unreachable" | "pending";

/** A box as the API shows it; health `pending`: made in the UI, its machine has not registered yet. */
export type BoxView = {
  id: string;
  name: string;
  url?: string;
  lastSeenAt?: string;
  retired: boolean;
  retiredAt?: string;
  health: BoxHealth;
  createdAt?: string;
  /** Pending, and its registration key is past its 24 h. */
  keyExpired: boolean;
};

export function boxView(row: BoxRow, health: BoxHealth, now = Date.now()): BoxView {
  const pending = row.tokenEnc === null && row.retiredAt === null;
  return {
    id: row.id,
    name: row.name,
    url: row.url ?? undefined,
    lastSeenAt: row.lastSeenAt?.toISOString(),
    retired: row.retiredAt !== null,
    retiredAt: row.retiredAt?.toISOString(),
    health,
    createdAt: row.createdAt.toISOString(),
    keyExpired: pending && now - row.createdAt.getTime() > KEY_TTL_MS,
  };
}

/**
 * The user's boxes, the env box first (id "env") when BOX_URL is set, each live one probed at
 * /healthz side by side (2 s at most), and the id new chats go to by default.
 */
export async function listBoxes(scope: BoxScope, userId: string): Promise<{ boxes: BoxView[]; defaultBox?: string }> {
  const [rows, defaultBox] = await Promise.all([userBoxes(scope.db, userId), defaultBoxId(scope, userId)]);
  const registered = rows.map(async (row): Promise<BoxView> => {
    if (row.retiredAt) return boxView(row, "unreachable");
    if (!row.tokenEnc) return boxView(row, "pending");
    const ok = await boxClient(await targetOf(scope.env, row), scope.fetch).healthy();
    return boxView(row, ok ? "ok" : "unreachable");
  });
  const env = scope.env.BOX_URL ? [envView(scope)] : [];
  return { boxes: await Promise.all([...env, ...registered]), defaultBox };
}

async function envView(scope: BoxScope): Promise<BoxView> {
  const target = envBox(scope.env);
  const ok = await boxClient(target, scope.fetch).healthy();
  return { id: ENV_BOX_ID, name: target.name, url: target.url ?? undefined, retired: false, health: ok ? "ok" : "unreachable", keyExpired: false };
}
