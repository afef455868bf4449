import { and, asc, desc, eq, isNotNull, isNull } from "drizzle-orm";
import { Hono } from "hono";
import { z } from "zod";
import { ApiError, conflict } from "../../lib/api-error.ts";
import { modelSchema, promptFilesSchema, promptTextSchema } from "../../lib/prompt-input.ts";
import { validate } from "../../lib/validate.ts";
import { chatIdSchema, promptIdSchema, refSchema, repoSchema } from "../../lib/names.ts";
import { background } from "../background.ts";
import { boxClient } from "../box/client.ts";
import type { AppEnv } from "../context.ts";
import { chats, checkpoints, prompts } from "../db/schema.ts";
import { deliverChat } from "../chats/outbox.ts";
import { chatView, promptView } from "../chats/views.ts";
import { ownChat } from "../chats/own-chat.ts";
import { ulid } from "../../lib/ulid.ts";
import { createChat, titleFrom } from "../chats/create-chat.ts";
import { chatActionRoutes } from "./chat-actions.ts";
import { chatForkRoutes } from "./chat-fork.ts";
import { syncStatusesFromBox } from "../chats/status-sync.ts";

const promptInput = z.object({ promptId: promptIdSchema.optional(), text: promptTextSchema, model: modelSchema.optional(), files: promptFilesSchema.optional() });
const createBody = z.object({ repo: repoSchema, base: refSchema.optional(), model: modelSchema.optional(), prompt: promptInput.omit({ model: true }).optional() });
const listQuery = z.object({
  status: z.enum(["queued", "idle", "busy", "error", "interrupted", "needs_you"]).optional(),
  repo: repoSchema.optional(),
  archived: z.enum(["true", "false"]).optional(),
});
const idParam = z.object({ id: chatIdSchema });
const patchBody = z.object({ title: z.string().trim().min(1).max(200).optional(), archived: z.boolean().optional(), muted: z.boolean().optional() })
  .refine((b) => b.title !== undefined || b.archived !== undefined || b.muted !== undefined, "nothing to change: send title, archived or muted");

export const chatRoutes = new Hono<AppEnv>()
  .post("/", validate("json", createBody), async (c) => {
    const input = c.req.valid("json");
    const { chat, created } = await createChat(c.get("db"), c.get("user").id, input);
    if (created) background(c, deliverChat(c.get("db"), boxClient(c.env, c.get("deps").boxFetch), chat.id), `deliver ${chat.id}`);
    return c.json({ chat: chatView(chat) }, created ? 201 : 200);
  })
  .get("/", validate("query", listQuery), async (c) => {
    const q = c.req.valid("query");
    const db = c.get("db");
    const box = await syncStatusesFromBox(c);
    const rows = await db.select().from(chats).where(and(
      eq(chats.userId, c.get("user").id),
      q.status === "needs_you" ? eq(chats.needsYou, true) : q.status ? eq(chats.status, q.status) : undefined,
      q.repo ? eq(chats.repo, q.repo) : undefined,
      q.archived === "true" ? isNotNull(chats.archivedAt) : isNull(chats.archivedAt),
    )).orderBy(desc(chats.lastActivityAt)).limit(200);
    return c.json({ chats: rows.map(chatView), box });
  })
  .get("/:id", validate("param", idParam), async (c) => {
    const box = await syncStatusesFromBox(c);
    return c.json({ chat: chatView(await ownChat(c.get("db"), c.get("user").id, c.req.valid("param").id)), box });
  })
  .patch("/:id", validate("param", idParam), validate("json", patchBody), async (c) => {
    const chat = await ownChat(c.get("db"), c.get("user").id, c.req.valid("param").id);
    const body = c.req.valid("json");
    const archivedAt = body.archived === undefined ? undefined : body.archived ? new Date() : null;
    const [row] = await c.get("db").update(chats).set({ title: body.title, muted: body.muted, archivedAt }).where(eq(chats.id, chat.id)).returning();
    if (body.archived !== undefined && chat.sessionId) {
      const box = boxClient(c.env, c.get("deps").boxFetch);
      background(c, box.call("PATCH", `/mgmt/chats/${chat.id}`, { archived: body.archived }), `archive ${chat.id}`);
    }
    return c.json({ chat: chatView(row!) });
  })
  .delete("/:id", validate("param", idParam), async (c) => {
    const chat = await ownChat(c.get("db"), c.get("user").id, c.req.valid("param").id);
    const db = c.get("db");
    if (chat.sessionId) {
      await boxClient(c.env, c.get("deps").boxFetch).call("DELETE", `/mgmt/chats/${chat.id}`).catch((err) => {
        if (!(err instanceof ApiError && err.status === 404)) throw err;
      });
    }
    await db.batch([
      db.delete(prompts).where(eq(prompts.chatId, chat.id)),
      db.delete(checkpoints).where(eq(checkpoints.chatId, chat.id)),
      db.delete(chats).where(eq(chats.id, chat.id)),
    ]);
    return c.body(null, 204);
  })
  .post("/:id/prompts", validate("param", idParam), validate("json", promptInput), async (c) => {
    const chat = await ownChat(c.get("db"), c.get("user").id, c.req.valid("param").id);
    const input = c.req.valid("json");
    const db = c.get("db");
    const promptId = input.promptId ?? ulid();
    const existing = await db.query.prompts.findFirst({ where: eq(prompts.id, promptId) });
    if (existing) {
      if (existing.chatId !== chat.id) throw conflict(`prompt ${promptId} belongs to another chat`);
      return c.json({ prompt: promptView(existing) }, 202);
    }
    await db.insert(prompts).values({ id: promptId, chatId: chat.id, userId: chat.userId, text: input.text, model: input.model ?? chat.model, files: input.files ?? null, state: "queued", createdAt: new Date() });
    await db.update(chats).set({ lastActivityAt: new Date(), ...(chat.title ? {} : { title: titleFrom(input.text) }) }).where(eq(chats.id, chat.id));
    // On the box already: one quick send, so the answer can say "sent". Still being created there
    // (a first clone can take minutes): answer "queued" now and deliver in the background.
    const delivery = deliverChat(db, boxClient(c.env, c.get("deps").boxFetch), chat.id);
    if (chat.sessionId) await delivery;
    else background(c, delivery, `deliver ${chat.id}`);
    const row = await db.query.prompts.findFirst({ where: eq(prompts.id, promptId) });
    return c.json({ prompt: promptView(row!) }, 202);
  })
  .get("/:id/prompts", validate("param", idParam), async (c) => {
    const chat = await ownChat(c.get("db"), c.get("user").id, c.req.valid("param").id);
    const rows = await c.get("db").select().from(prompts).where(eq(prompts.chatId, chat.id)).orderBy(asc(prompts.createdAt));
    return c.json({ prompts: rows.map(promptView) });
  })
  .route("/", chatActionRoutes)
  .route("/", chatForkRoutes);
