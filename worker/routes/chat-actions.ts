import { eq } from "drizzle-orm";
import { Hono, type Context } from "hono";
import { z } from "zod";
import { badRequest } from "../../lib/api-error.ts";
import { validate } from "../../lib/validate.ts";
import { chatIdSchema } from "../../lib/names.ts";
import { background } from "../background.ts";
import { liveBoxForChat } from "../boxes/resolve.ts";
import { boxScope, type AppEnv } from "../context.ts";
import { chats } from "../db/schema.ts";
import { ownChat } from "../chats/own-chat.ts";
import { githubClient, githubTokenFor } from "../github/client.ts";
import { notifyChat } from "../push/notify.ts";

const idParam = z.object({ id: chatIdSchema });
const prBody = z.object({ title: z.string().trim().min(1).max(250).optional(), body: z.string().max(60_000).optional(), draft: z.boolean().default(true) });
type Diff = { base: string; baseCommit: string; head: string; files: Array<{ path: string; status: string; additions: number; deletions: number }>; patch: string };

/** Actions on a chat that live on the box: each needs the chat to be there already. */
export const chatActionRoutes = new Hono<AppEnv>()
  .post("/:id/abort", validate("param", idParam), async (c) => {
    const { chat, box } = await onBox(c, c.req.valid("param").id);
    await box.call("POST", `/mgmt/chats/${chat.id}/abort`);
    return c.body(null, 204);
  })
  .get("/:id/diff", validate("param", idParam), async (c) => {
    const { chat, box } = await onBox(c, c.req.valid("param").id);
    const diff = await box.call<Diff>("GET", `/mgmt/chats/${chat.id}/diff`);
    const additions = diff.files.reduce((n, f) => n + f.additions, 0);
    const deletions = diff.files.reduce((n, f) => n + f.deletions, 0);
    await c.get("db").update(chats).set({ filesChanged: diff.files.length, additions, deletions }).where(eq(chats.id, chat.id));
    return c.json(diff);
  })
  .get("/:id/checkpoints", validate("param", idParam), async (c) => {
    const { chat, box } = await onBox(c, c.req.valid("param").id);
    return c.json(await box.call<{ checkpoints: unknown[] }>("GET", `/mgmt/chats/${chat.id}/checkpoints`));
  })
  .post("/:id/pr", validate("param", idParam), validate("json", prBody), async (c) => {
    const { chat, box } = await onBox(c, c.req.valid("param").id);
    const token = await githubTokenFor(c);
    if (!token) throw badRequest("sign in with GitHub to open pull requests");
    await box.call("POST", `/mgmt/chats/${chat.id}/checkpoint`);
    const input = c.req.valid("json");
    const [owner, name] = chat.repo.split("/") as [string, string];
    const pr = await githubClient(c.env, token).createPull(owner, name, {
      head: chat.branch,
      base: chat.base ?? "main",
      title: input.title ?? chat.title ?? `ocweb: ${chat.branch}`,
      body: bodyWithIssueLink(input.body ?? `Opened from ocweb chat ${chat.id}.`, chat.issueUrl),
      draft: input.draft,
    });
    const [row] = await c.get("db").update(chats).set({ prUrl: pr.url }).where(eq(chats.id, chat.id)).returning();
    if (row && !row.muted) background(c, notifyChat(c.get("db"), c.env, { kind: "pr", chat: row, detail: `#${pr.number}` }), `push pr ${chat.id}`);
    return c.json({ pr }, 201);
  });

/** A chat started from an issue links back to it; GitHub closes the issue when the PR merges. */
function bodyWithIssueLink(body: string, issueUrl: string | null): string {
  if (!issueUrl || body.includes(issueUrl)) return body;
  return `${body}\n\nCloses ${issueUrl}`;
}

/** The user's chat and its own box; the chat must be there already and the box not retired. */
async function onBox(c: Context<AppEnv>, id: string) {
  const chat = await ownChat(c.get("db"), c.get("user").id, id);
  if (!chat.sessionId) throw badRequest("this chat is still queued: it is not on the box yet");
  return { chat, box: await liveBoxForChat(boxScope(c), chat) };
}
