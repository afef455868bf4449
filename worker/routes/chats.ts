import { and, asc, desc, eq, isNotNull, isNull } from "drizzle-orm";
import { Hono } from "hono";
import { z } from "zod";
import { ApiError, conflict } from "../../lib/api-error.ts";
import { modelSchema, promptFilesSchema, promptTextSchema } from "../../lib/prompt-input.ts";
import { validate } from "../../lib/validate.ts";
import { chatIdSchema, promptIdSchema, refSchema, repoSchema } from "../../lib/names.ts";
import { background } from "../background.ts";
import { boxForChat, boxIdSchema, liveBoxForChat, newChatBoxId } from "../boxes/resolve.ts";
import { boxScope, type AppEnv } from "../context.ts";
import { chats, checkpoints, prompts } from "../db/schema.ts";
import { deliverChat } from "../chats/outbox.ts";
import { chatView, promptView, promptViewColumns, type ChatView } from "../chats/views.ts";
import { ownChat } from "../chats/own-chat.ts";
import { ulid } from "../../lib/ulid.ts";
import { createChat, titleFrom } from "../chats/create-chat.ts";
import { createAttempts, MAX_ATTEMPTS, MAX_GROUP_PROMPT_ID, pickAttempt } from "../chats/attempts.ts";
import { chatActionRoutes } from "./chat-actions.ts";
import { chatForkRoutes } from "./chat-fork.ts";
import { syncStatusesFromBox } from "../chats/status-sync.ts";

const promptInput = z.object({ promptId: promptIdSchema.optional(), text: promptTextSchema, model: modelSchema.optional(), files: promptFilesSchema.optional() });
const issueInput = z.object({ number: z.number().int().positive(), url: z.string().max(500).regex(/^https?:\/\/[^\s/]+\/\S+$/, "issue.url must be an http(s) URL") });
const createBody = z.object({
  repo: repoSchema,
  base: refSchema.optional(),
  model: modelSchema.optional(),
  prompt: promptInput.omit({ model: true }).optional(),
  attempts: z.number().int().min(1).max(MAX_ATTEMPTS).optional(),
  /** Attempt i uses models[i] ?? model; null (or a missing entry) = model. */
  models: z.array(modelSchema.nullable()).max(MAX_ATTEMPTS).optional(),
  issue: issueInput.optional(),
  /** "env" or one of the user's registered boxes; default: the env box, else the box seen last. */
  boxId: boxIdSchema.optional(),
}).superRefine((b, ctx) => {
  const attempts = b.attempts ?? 1;
  const fail = (path: string, message: string) => ctx.addIssue({ code: "custom", path: [path], message });
  if ((b.models?.length ?? 0) > attempts) fail("models", `at most one model per attempt (attempts is ${attempts})`);
  if (attempts > 1 && !b.prompt) fail("prompt", "attempts need a prompt: each attempt starts with it");
  if (attempts > 1 && (b.prompt?.promptId?.length ?? 0) > MAX_GROUP_PROMPT_ID) fail("prompt.promptId", `must be at most ${MAX_GROUP_PROMPT_ID} characters with attempts`);
  if (b.issue && !isIssueOf(b.repo, b.issue)) fail("issue.url", `must be the URL of issue #${b.issue.number} of ${b.repo}`);
});
/** One type for both answers: inferred apart, the typed client would see only the narrower one. */
type Created = { chat: ChatView; group?: { id: string; chats: ChatView[] } };
const listQuery = z.object({
  status: z.enum(["queued", "idle", "busy", "error", "interrupted", "needs_you"]).optional(),
  repo: repoSchema.optional(),
  archived: z.enum(["true", "false"]).optional(),
  group: z.string().regex(/^[0-9A-Z]{26}$/, "group must be a ULID (26 of 0-9 A-Z)").optional(),
});
const idParam = z.object({ id: chatIdSchema });
const patchBody = z.object({ title: z.string().trim().min(1).max(200).optional(), archived: z.boolean().optional(), muted: z.boolean().optional() })
  .refine((b) => b.title !== undefined || b.archived !== undefined || b.muted !== undefined, "nothing to change: send title, archived or muted");

export const chatRoutes = new Hono<AppEnv>()
  .post("/", validate("json", createBody), async (c) => {
    const { attempts = 1, models = [], issue, boxId: requested, ...input } = c.req.valid("json");
    const db = c.get("db");
    const boxId = await newChatBoxId(boxScope(c), c.get("user").id, requested);
    const box = await boxForChat(boxScope(c), { boxId });
    const deliver = (id: string) => background(c, deliverChat(db, box, id), `deliver ${id}`);
    const newChat = { ...input, issueUrl: issue?.url, boxId };
    if (attempts === 1) {
      const { chat, created } = await createChat(db, c.get("user").id, { ...newChat, model: models[0] ?? input.model });
      if (created) deliver(chat.id);
      return c.json<Created>({ chat: chatView(chat) }, created ? 201 : 200);
    }
    const group = await createAttempts(db, c.get("user").id, newChat, attempts, models);
    for (const chat of group.created) deliver(chat.id);
    const views = group.chats.map(chatView);
    return c.json<Created>({ chat: views[0]!, group: { id: group.groupId, chats: views } }, group.created.length > 0 ? 201 : 200);
  })
  .get("/", validate("query", listQuery), async (c) => {
    const q = c.req.valid("query");
    const db = c.get("db");
    const { box, boxes } = await syncStatusesFromBox(c);
    const rows = await db.select().from(chats).where(and(
      eq(chats.userId, c.get("user").id),
      q.status === "needs_you" ? eq(chats.needsYou, true) : q.status ? eq(chats.status, q.status) : undefined,
      q.repo ? eq(chats.repo, q.repo) : undefined,
      q.group ? eq(chats.groupId, q.group) : undefined,
      // A group is listed whole (its shipped attempt and the archived rest) unless archived= says otherwise.
      q.archived === "true" ? isNotNull(chats.archivedAt) : q.archived === "false" || !q.group ? isNull(chats.archivedAt) : undefined,
    )).orderBy(...(q.group ? [asc(chats.createdAt), asc(chats.id)] : [desc(chats.lastActivityAt)])).limit(200);
    return c.json({ chats: rows.map(chatView), box, boxes });
  })
  .get("/:id", validate("param", idParam), async (c) => {
    const { id } = c.req.valid("param");
    const { box } = await syncStatusesFromBox(c, await ownChat(c.get("db"), c.get("user").id, id));
    return c.json({ chat: chatView(await ownChat(c.get("db"), c.get("user").id, id)), box });
  })
  .patch("/:id", validate("param", idParam), validate("json", patchBody), async (c) => {
    const chat = await ownChat(c.get("db"), c.get("user").id, c.req.valid("param").id);
    const body = c.req.valid("json");
    const archivedAt = body.archived === undefined ? undefined : body.archived ? new Date() : null;
    const [row] = await c.get("db").update(chats).set({ title: body.title, muted: body.muted, archivedAt }).where(eq(chats.id, chat.id)).returning();
    if (body.archived !== undefined && chat.sessionId) {
      const box = await boxForChat(boxScope(c), chat);
      if (!box.retired) background(c, box.call("PATCH", `/mgmt/chats/${chat.id}`, { archived: body.archived }), `archive ${chat.id}`);
    }
    return c.json({ chat: chatView(row!) });
  })
  .delete("/:id", validate("param", idParam), async (c) => {
    const chat = await ownChat(c.get("db"), c.get("user").id, c.req.valid("param").id);
    const db = c.get("db");
    if (chat.sessionId) {
      // Gone on the box, or its box was retired: there is nothing left there to remove.
      await (await boxForChat(boxScope(c), chat)).call("DELETE", `/mgmt/chats/${chat.id}`).catch((err) => {
        if (!(err instanceof ApiError && (err.status === 404 || err.code === "box_retired"))) throw err;
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
    const box = await liveBoxForChat(boxScope(c), chat);
    await db.insert(prompts).values({ id: promptId, chatId: chat.id, userId: chat.userId, text: input.text, model: input.model ?? chat.model, files: input.files ?? null, state: "queued", createdAt: new Date() });
    await db.update(chats).set({ lastActivityAt: new Date(), ...(chat.title ? {} : { title: titleFrom(input.text) }) }).where(eq(chats.id, chat.id));
    // On the box already: one quick send, so the answer can say "sent". Still being created there
    // (a first clone can take minutes): answer "queued" now and deliver in the background.
    const delivery = deliverChat(db, box, chat.id);
    if (chat.sessionId) await delivery;
    else background(c, delivery, `deliver ${chat.id}`);
    const row = await db.query.prompts.findFirst({ where: eq(prompts.id, promptId) });
    return c.json({ prompt: promptView(row!) }, 202);
  })
  .get("/:id/prompts", validate("param", idParam), async (c) => {
    const chat = await ownChat(c.get("db"), c.get("user").id, c.req.valid("param").id);
    const rows = await c.get("db").select(promptViewColumns).from(prompts).where(eq(prompts.chatId, chat.id)).orderBy(asc(prompts.createdAt));
    return c.json({ prompts: rows.map(promptView) });
  })
  .post("/:id/pick", validate("param", idParam), async (c) => {
    const picked = await pickAttempt(c.get("db"), c.get("user").id, c.req.valid("param").id);
    const box = await boxForChat(boxScope(c), picked.chat); // a group's attempts share one box
    if (!box.retired) for (const { id, archived } of picked.boxArchive) background(c, box.call("PATCH", `/mgmt/chats/${id}`, { archived }), `archive ${id}`);
    return c.json({ chat: chatView(picked.chat), archived: picked.archived });
  })
  .route("/", chatActionRoutes)
  .route("/", chatForkRoutes);

/** GitHub's issue URL ends in /<owner>/<name>/issues/<number> (github.com and Enterprise alike). */
function isIssueOf(repo: string, issue: { number: number; url: string }): boolean {
  try {
    return new URL(issue.url).pathname.toLowerCase().endsWith(`/${repo.toLowerCase()}/issues/${issue.number}`);
  } catch {
    return false;
  }
}
