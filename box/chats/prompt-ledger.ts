import type { Client, Row } from "@libsql/client";

export type PromptState = "queued" | "sending" | "sent" | "failed";

export type PromptInput = {
  text: string;
  model?: string;
  agent?: string;
  files?: Array<{ mime: string; url: string; filename?: string }>;
};

export type PromptRow = {
  promptId: string;
  chatId: string;
  input: PromptInput;
  state: PromptState;
  error: string | null;
  createdAt: number;
  sentAt: number | null;
  /** Times it was handed to opencode. */
  attempts: number;
};

const toPrompt = (r: Row): PromptRow => ({
  promptId: String(r.prompt_id),
  chatId: String(r.chat_id),
  input: JSON.parse(String(r.input)) as PromptInput,
  state: String(r.state) as PromptState,
  error: r.error === null ? null : String(r.error),
  createdAt: Number(r.created_at),
  sentAt: r.sent_at === null ? null : Number(r.sent_at),
  attempts: Number(r.attempts ?? 0),
});

/**
 * Every promptId the box was ever given. A row is written before delivery is attempted and is
 * never deleted, so a promptId reaches opencode at most once, across restarts.
 */
export class PromptLedger {
  constructor(private db: Client) {}

  /** false when the promptId was already known (to any chat). */
  async record(promptId: string, chatId: string, input: PromptInput): Promise<boolean> {
    const rs = await this.db.execute({
      sql: "INSERT OR IGNORE INTO prompts (prompt_id, chat_id, text, input, state, created_at) VALUES (?, ?, ?, ?, 'queued', ?)",
      args: [promptId, chatId, input.text, JSON.stringify(input), Date.now()],
    });
    return rs.rowsAffected === 1;
  }

  async get(promptId: string): Promise<PromptRow | undefined> {
    const rs = await this.db.execute({ sql: "SELECT * FROM prompts WHERE prompt_id = ?", args: [promptId] });
    return rs.rows[0] && toPrompt(rs.rows[0]);
  }

  async nextQueued(chatId: string): Promise<PromptRow | undefined> {
    const rs = await this.db.execute({
      sql: "SELECT * FROM prompts WHERE chat_id = ? AND state = 'queued' ORDER BY created_at, rowid LIMIT 1",
      args: [chatId],
    });
    return rs.rows[0] && toPrompt(rs.rows[0]);
  }

  async inState(state: PromptState, chatId?: string): Promise<PromptRow[]> {
    const rs = chatId
      ? await this.db.execute({ sql: "SELECT * FROM prompts WHERE state = ? AND chat_id = ? ORDER BY created_at, rowid", args: [state, chatId] })
      : await this.db.execute({ sql: "SELECT * FROM prompts WHERE state = ? ORDER BY created_at, rowid", args: [state] });
    return rs.rows.map(toPrompt);
  }

  async lastSent(chatId: string): Promise<PromptRow | undefined> {
    const rs = await this.db.execute({
      sql: "SELECT * FROM prompts WHERE chat_id = ? AND state = 'sent' ORDER BY sent_at DESC, rowid DESC LIMIT 1",
      args: [chatId],
    });
    return rs.rows[0] && toPrompt(rs.rows[0]);
  }

  /** About to hand it to opencode: `sending`, one more attempt. */
  async startSend(promptId: string) {
    await this.db.execute({ sql: "UPDATE prompts SET state = 'sending', error = NULL, attempts = attempts + 1 WHERE prompt_id = ?", args: [promptId] });
  }

  async setState(promptId: string, state: PromptState, error: string | null = null) {
    await this.db.execute({
      sql: `UPDATE prompts SET state = ?, error = ?, sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END WHERE prompt_id = ?`,
      args: [state, error, state, Date.now(), promptId],
    });
  }
}
