import { z } from "zod";
import type { Db } from "../db/client.ts";
import type { chats } from "../db/schema.ts";
import type { Env } from "../env.ts";
import { vapidConfigured } from "./config.ts";
import { sendToUser, type PushKind, type PushMessage } from "./send.ts";

type ChatRow = typeof chats.$inferSelect;
export type ChatNoticeKind = Exclude<PushKind, "test">;
/** Something that happened to a chat and is worth a push; `detail` says what (a permission, a PR number). */
export type ChatNotice = { kind: ChatNoticeKind; chat: ChatRow; detail?: string };

const DAY_SECONDS = 24 * 60 * 60;
const TITLE_MAX = 120;
const BODY_MAX = 240;

type StatusRule = { kind: ChatNoticeKind; onlyFrom?: string };
const STATUS_RULES: Record<string, StatusRule> = { idle: { kind: "done", onlyFrom: "busy" }, error: { kind: "error" }, interrupted: { kind: "interrupted" } };

/** Which moves into `to` are worth a push: a run that ends (busy → idle), fails or is cut off (from any other status). */
export const statusRule = (to: string): StatusRule | undefined => STATUS_RULES[to];

export function statusNoticeKind(from: string, to: string): ChatNoticeKind | undefined {
  const rule = statusRule(to);
  if (!rule || from === to || (rule.onlyFrom && from !== rule.onlyFrom)) return undefined;
  return rule.kind;
}

/** Sends a chat's notice to all of its owner's devices; nothing for a muted chat or when push is not set up. */
export async function notifyChat(db: Db, env: Env, notice: ChatNotice): Promise<void> {
  if (notice.chat.muted || !vapidConfigured(env)) return;
  await sendToUser(db, env, notice.chat.userId, chatMessage(notice));
}

function chatMessage({ kind, chat, detail }: ChatNotice): PushMessage {
  const title = clip(chat.title ? `${chat.repo} · ${chat.title}` : chat.repo, TITLE_MAX);
  const payload = { kind, chatId: chat.id, title, body: clip(bodyFor(kind, chat, detail), BODY_MAX), url: `/chats/${chat.id}`, tag: `chat-${chat.id}` };
  const urgent = kind === "needs_you" || kind === "error";
  return { payload, ttlSeconds: DAY_SECONDS, urgency: urgent ? "high" : "normal", topic: chat.id };
}

export function testMessage(): PushMessage {
  const payload = { kind: "test" as const, title: "ocweb", body: "Test notification: push works on this device", url: "/settings", tag: "ocweb-test" };
  return { payload, ttlSeconds: 5 * 60, urgency: "normal", topic: "ocweb-test" };
}

function bodyFor(kind: ChatNoticeKind, chat: ChatRow, detail: string | undefined): string {
  const files = chat.filesChanged;
  if (kind === "done") return files > 0 ? `Done · ${files} file${files === 1 ? "" : "s"} changed` : "Done";
  if (kind === "needs_you") return `Needs you: ${detail ?? "a question is waiting"}`;
  if (kind === "error") return chat.error ? `Error: ${chat.error}` : "Error: the run failed";
  if (kind === "interrupted") return "Interrupted: opencode restarted on the box and cut the run off";
  return detail ? `Pull request ${detail} opened` : "Pull request opened";
}

const permissionAsked = z.object({ permission: z.string(), patterns: z.array(z.string()).optional() });
const questionAsked = z.object({ questions: z.array(z.object({ question: z.string() })).min(1) });

/** "permission to run `npm test`" from opencode's permission.asked request, the question text from question.asked. */
export function needsYouDetail(type: string, request: unknown): string | undefined {
  if (type === "question.asked") return questionAsked.safeParse(request).data?.questions[0]?.question;
  const asked = permissionAsked.safeParse(request).data;
  if (!asked) return undefined;
  const what = (asked.patterns ?? []).filter((p) => p !== "*").join(", ");
  if (asked.permission === "bash") return what ? `permission to run \`${what}\`` : "permission to run a command";
  if (asked.permission === "edit" || asked.permission === "write") return what ? `permission to edit ${what}` : "permission to edit files";
  if (asked.permission === "webfetch") return what ? `permission to fetch ${what}` : "permission to fetch a page";
  if (asked.permission === "external_directory") return what ? `permission to use ${what}` : "permission to leave the worktree";
  return what ? `permission for ${asked.permission} (${what})` : `permission for ${asked.permission}`;
}

function clip(text: string, max: number): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}
