import { Hono } from "hono";
import { z } from "zod";
import { chatView } from "../chats/chat-service.ts";
import { chatIdSchema, promptIdSchema, refSchema, repoSchema } from "../names.ts";
import type { BoxServices } from "../services.ts";
import { modelSchema, promptFilesSchema, promptTextSchema } from "../../lib/prompt-input.ts";
import { validate } from "../../lib/validate.ts";

const createBody = z.object({
  chatId: chatIdSchema,
  repo: repoSchema,
  base: refSchema.optional(),
  fromCommit: z.string().regex(/^[0-9a-f]{40}([0-9a-f]{24})?$/, "fromCommit must be a full commit sha").optional(),
});
const idParam = z.object({ chatId: chatIdSchema });
const promptBody = z.object({
  promptId: promptIdSchema,
  text: promptTextSchema,
  model: modelSchema.optional(),
  agent: z.string().regex(/^[\w-]{1,64}$/).optional(),
  files: promptFilesSchema.optional(),
});
const patchBody = z.object({ archived: z.boolean() });

export const chatRoutes = (box: BoxServices) =>
  new Hono()
    .post("/", validate("json", createBody), async (c) => {
      const { created, chat } = await box.chats.create(c.req.valid("json"));
      return c.json(chatView(chat), created ? 201 : 200);
    })
    .get("/", async (c) => c.json({ chats: (await box.store.list()).map(chatView) }))
    .get("/:chatId", validate("param", idParam), async (c) => {
      const { chatId } = c.req.valid("param");
      // Prompts first, then the chat: a prompt leaves `sending` only after its chat is marked busy
      // (PromptPump.deliver), so no reading shows an idle chat with nothing left to send while one is on its way.
      const waiting = [...(await box.ledger.inState("sending", chatId)), ...(await box.ledger.inState("queued", chatId))];
      const chat = await box.chats.get(chatId);
      return c.json({ ...chatView(chat), queuedPrompts: waiting.map((p) => p.promptId) });
    })
    .patch("/:chatId", validate("param", idParam), validate("json", patchBody), async (c) => {
      const { chatId } = c.req.valid("param");
      await box.chats.setArchived(chatId, c.req.valid("json").archived);
      return c.json(chatView(await box.chats.get(chatId)));
    })
    .post("/:chatId/prompts", validate("param", idParam), validate("json", promptBody), async (c) => {
      const chat = await box.chats.get(c.req.valid("param").chatId);
      const { promptId, ...input } = c.req.valid("json");
      const state = await box.pump.submit(chat, promptId, input);
      return c.json({ promptId, state }, 202);
    })
    .post("/:chatId/abort", validate("param", idParam), async (c) => {
      await box.chats.abort(await box.chats.get(c.req.valid("param").chatId));
      return c.body(null, 204);
    })
    .get("/:chatId/diff", validate("param", idParam), async (c) => {
      return c.json(await box.chats.diff(await box.chats.get(c.req.valid("param").chatId)));
    })
    .post("/:chatId/checkpoint", validate("param", idParam), async (c) => {
      const { chatId } = c.req.valid("param");
      const result = await box.chats.checkpointNow(chatId);
      return result ? c.json(result, 201) : c.body(null, 204);
    })
    .get("/:chatId/checkpoints", validate("param", idParam), async (c) => {
      const chat = await box.chats.get(c.req.valid("param").chatId);
      return c.json({ checkpoints: await box.chats.checkpoints(chat) });
    })
    .delete("/:chatId", validate("param", idParam), async (c) => {
      await box.chats.delete(c.req.valid("param").chatId);
      return c.body(null, 204);
    });
