import { and, eq } from "drizzle-orm";
import { notFound } from "../../lib/api-error.ts";
import type { Db } from "../db/client.ts";
import { chats } from "../db/schema.ts";

/** The user's chat, or 404: another user's chat is indistinguishable from none. */
export async function ownChat(db: Db, userId: string, id: string) {
  const chat = await db.query.chats.findFirst({ where: and(eq(chats.id, id), eq(chats.userId, userId)) });
  if (!chat) throw notFound(`no chat ${id}`);
  return chat;
}
