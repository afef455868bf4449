import { Hono } from "hono";
import { z } from "zod";
import { badRequest } from "../../lib/api-error.ts";
import { modelSchema, promptFilesSchema, promptTextSchema } from "../../lib/prompt-input.ts";
import { chatIdSchema, promptIdSchema } from "../../lib/names.ts";
import { validate } from "../../lib/validate.ts";
import { background } from "../background.ts";
import { liveBoxForChat } from "../boxes/resolve.ts";
import { boxScope, type AppEnv } from "../context.ts";
import { createChat } from "../chats/create-chat.ts";
import { deliverChat } from "../chats/outbox.ts";
import { ownChat } from "../chats/own-chat.ts";
import { chatView } from "../chats/views.ts";

const idParam = z.object({ id: chatIdSchema });
const forkBody = z.object({
  sha: z.string().regex(/^[0-9a-f]{40}([0-9a-f]{24})?$/, "sha must be a full commit sha"),
  model: modelSchema.optional(),
  prompt: z.object({ promptId: promptIdSchema.optional(), text: promptTextSchema, files: promptFilesSchema.optional() }).optional(),
});

/** POST /api/chats/:id/fork: a new chat (own branch and worktree) starting at one of this chat's checkpoints. */
export const chatForkRoutes = new Hono<AppEnv>()
  .post("/:id/fork", validate("param", idParam), validate("json", forkBody), async (c) => {
    const db = c.get("db");
    const parent = await ownChat(db, c.get("user").id, c.req.valid("param").id);
    const input = c.req.valid("json");
    if (!parent.sessionId) throw badRequest("this chat is still queued: it has no checkpoints yet");
    const box = await liveBoxForChat(boxScope(c), parent);
    const { checkpoints } = await box.call<{ checkpoints: Array<{ sha: string }> }>("GET", `/mgmt/chats/${parent.id}/checkpoints`);
    if (!checkpoints.some((cp) => cp.sha === input.sha)) throw badRequest(`${input.sha.slice(0, 7)} is not a checkpoint of this chat`);
    const { chat, created } = await createChat(db, parent.userId, {
      repo: parent.repo,
      base: parent.base ?? undefined,
      model: input.model ?? parent.model ?? undefined,
      prompt: input.prompt,
      title: input.prompt ? undefined : `Fork of ${parent.title ?? parent.branch} @ ${input.sha.slice(0, 7)}`,
      forkedFrom: `${parent.id}@${input.sha}`,
      boxId: parent.boxId, // the checkpoint is on the parent's box
    });
    if (created) background(c, deliverChat(db, box, chat.id), `deliver ${chat.id}`);
    return c.json({ chat: chatView(chat) }, created ? 201 : 200);
  });
