import { load, save } from "./storage.ts";

/** The new-chat form as typed so far; survives reloads. */
export type NewChatDraft = { repo?: string; text: string; base?: string; model?: string };

export const loadNewDraft = (): NewChatDraft => load<NewChatDraft>("draft.new") ?? { text: "" };
export const saveNewDraft = (d: NewChatDraft) => save("draft.new", d.repo || d.text ? d : undefined);
export const clearNewDraft = () => save("draft.new", undefined);
