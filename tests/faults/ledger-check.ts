import type { FaultStack } from "./fault-stack.ts";

export type Sent = { promptId: string; chatId: string; fault: string };
type Chat = { id: string; sessionId?: string };
type Message = {
  info: { id: string; role: string; parentID?: string; finish?: string; error?: unknown; time: { completed?: number } };
  parts: Array<{ type: string; metadata?: { ocwebPromptId?: string } }>;
};

/**
 * Reads back what the user sent, from both ends: the worker's prompt list and opencode's stored
 * messages (each user message carries its promptId), and the checkpoints of each chat's branch.
 */
export async function checkChats(stack: FaultStack, chats: Chat[], sent: Sent[]) {
  const lost: string[] = [];
  const duplicated: string[] = [];
  const notCheckpointed: string[] = [];
  const finishedByChat = new Map<string, string[]>();
  let interrupted = 0;
  for (const chat of chats) {
    const mine = sent.filter((s) => s.chatId === chat.id).map((s) => s.promptId);
    const states = new Map((await stack.json<{ prompts: Array<{ id: string; state: string }> }>(`/api/chats/${chat.id}/prompts`)).prompts.map((p) => [p.id, p.state]));
    const messages = await stack.json<Message[]>(`/api/box/oc/session/${chat.sessionId}/message`);
    const delivered = new Map<string, string[]>(); // promptId → its user message ids
    for (const m of messages.filter((m) => m.info.role === "user")) {
      for (const id of m.parts.map((p) => p.metadata?.ocwebPromptId).filter((id): id is string => Boolean(id))) {
        delivered.set(id, [...(delivered.get(id) ?? []), m.info.id]);
      }
    }
    const finishedTurns = new Set(messages.filter((m) => m.info.role === "assistant" && m.info.finish === "stop" && !m.info.error && m.info.time.completed).map((m) => m.info.parentID));
    const { checkpoints } = await stack.json<{ checkpoints: Array<{ files: string[] }> }>(`/api/chats/${chat.id}/checkpoints`);
    const committed = new Set(checkpoints.flatMap((c) => c.files));
    const finished: string[] = [];
    for (const promptId of mine) {
      const userMessages = delivered.get(promptId) ?? [];
      if (states.get(promptId) !== "sent" || userMessages.length === 0) lost.push(`${promptId} (worker: ${states.get(promptId) ?? "missing"}, opencode: ${userMessages.length})`);
      if (userMessages.length > 1) duplicated.push(`${promptId} ×${userMessages.length}`);
      if (!userMessages.some((id) => finishedTurns.has(id))) {
        if (userMessages.length > 0) interrupted++;
        continue;
      }
      finished.push(promptId);
      if (!committed.has(`f-${promptId}.txt`)) notCheckpointed.push(`${promptId} in ${chat.id}`);
    }
    finishedByChat.set(chat.id, finished);
  }
  const finished = [...finishedByChat.values()].reduce((n, l) => n + l.length, 0);
  return { lost, duplicated, notCheckpointed, finished, interrupted, finishedIn: (chatId: string) => finishedByChat.get(chatId) ?? [] };
}
