import type { Client, Row } from "@libsql/client";
import { LRUCache } from "lru-cache";

export type ChatStatus = "idle" | "busy" | "error" | "interrupted";
export type SetupState = "none" | "running" | "ok" | "failed";

export type Chat = {
  chatId: string;
  repo: string;
  branch: string;
  base: string;
  baseCommit: string;
  worktree: string;
  sessionId: string;
  status: ChatStatus;
  archived: boolean;
  deleted: boolean;
  lastError: string | null;
  setupState: SetupState;
  setupOutput: string | null;
  createdAt: number;
  updatedAt: number;
};

export type NewChat = Pick<Chat, "chatId" | "repo" | "branch" | "base" | "baseCommit" | "worktree" | "sessionId" | "setupState">;

export type CheckpointRow = { sha: string; chatId: string; message: string; filesChanged: number; pushed: boolean; createdAt: number };

const toChat = (r: Row): Chat => ({
  chatId: String(r.chat_id),
  repo: String(r.repo),
  branch: String(r.branch),
  base: String(r.base),
  baseCommit: String(r.base_commit),
  worktree: String(r.worktree),
  sessionId: String(r.session_id),
  status: String(r.status) as ChatStatus,
  archived: Number(r.archived) === 1,
  deleted: r.deleted_at !== null,
  lastError: r.last_error === null ? null : String(r.last_error),
  setupState: String(r.setup_state) as SetupState,
  setupOutput: r.setup_output === null ? null : String(r.setup_output),
  createdAt: Number(r.created_at),
  updatedAt: Number(r.updated_at),
});

type ChatPlace = { chatId: string; worktree: string };

/** Chats and checkpoints rows; the only module that writes SQL for them. */
export class ChatStore {
  /**
   * Which live chat a session or worktree belongs to, asked on every /oc request and every opencode
   * event. Only setSession and markDeleted change the answer, so it is read once and kept.
   */
  readonly #bySession = new LRUCache<string, ChatPlace>({ max: 10_000 });
  readonly #byWorktree = new LRUCache<string, ChatPlace>({ max: 10_000 });

  constructor(private db: Client) {}

  async placeOfSession(sessionId: string): Promise<ChatPlace | undefined> {
    const known = this.#bySession.get(sessionId);
    if (known) return known;
    const chat = await this.bySession(sessionId);
    if (!chat) return undefined;
    const place = { chatId: chat.chatId, worktree: chat.worktree };
    this.#bySession.set(sessionId, place);
    return place;
  }

  async isWorktree(dir: string): Promise<boolean> {
    if (this.#byWorktree.has(dir)) return true;
    const chat = await this.byWorktree(dir);
    if (chat) this.#byWorktree.set(dir, { chatId: chat.chatId, worktree: chat.worktree });
    return chat !== undefined;
  }

  #forget(chatId: string) {
    for (const cache of [this.#bySession, this.#byWorktree]) {
      for (const [key, place] of cache.entries()) if (place.chatId === chatId) cache.delete(key);
    }
  }

  async insert(c: NewChat): Promise<Chat> {
    const now = Date.now();
    await this.db.execute({
      sql: `INSERT INTO chats (chat_id, repo, branch, base, base_commit, worktree, session_id, setup_state, created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      args: [c.chatId, c.repo, c.branch, c.base, c.baseCommit, c.worktree, c.sessionId, c.setupState, now, now],
    });
    return (await this.get(c.chatId, { includeDeleted: true }))!;
  }

  async get(chatId: string, opts: { includeDeleted?: boolean } = {}): Promise<Chat | undefined> {
    const rs = await this.db.execute({ sql: "SELECT * FROM chats WHERE chat_id = ?", args: [chatId] });
    const chat = rs.rows[0] && toChat(rs.rows[0]);
    if (chat?.deleted && !opts.includeDeleted) return undefined;
    return chat;
  }

  private async bySession(sessionId: string): Promise<Chat | undefined> {
    const rs = await this.db.execute({ sql: "SELECT * FROM chats WHERE session_id = ? AND deleted_at IS NULL", args: [sessionId] });
    return rs.rows[0] && toChat(rs.rows[0]);
  }

  async byWorktree(dir: string): Promise<Chat | undefined> {
    const rs = await this.db.execute({ sql: "SELECT * FROM chats WHERE worktree = ? AND deleted_at IS NULL LIMIT 1", args: [dir] });
    return rs.rows[0] && toChat(rs.rows[0]);
  }

  async list(): Promise<Chat[]> {
    const rs = await this.db.execute("SELECT * FROM chats WHERE deleted_at IS NULL ORDER BY created_at DESC");
    return rs.rows.map(toChat);
  }

  async setStatus(chatId: string, status: ChatStatus, lastError: string | null = null) {
    await this.db.execute({
      sql: "UPDATE chats SET status = ?, last_error = ?, updated_at = ? WHERE chat_id = ?",
      args: [status, lastError, Date.now(), chatId],
    });
  }

  async setSession(chatId: string, sessionId: string) {
    await this.db.execute({ sql: "UPDATE chats SET session_id = ?, updated_at = ? WHERE chat_id = ?", args: [sessionId, Date.now(), chatId] });
    this.#forget(chatId);
  }

  async setSetup(chatId: string, state: SetupState, output: string | null) {
    await this.db.execute({
      sql: "UPDATE chats SET setup_state = ?, setup_output = ?, updated_at = ? WHERE chat_id = ?",
      args: [state, output, Date.now(), chatId],
    });
  }

  async setArchived(chatId: string, archived: boolean) {
    await this.db.execute({ sql: "UPDATE chats SET archived = ?, updated_at = ? WHERE chat_id = ?", args: [archived ? 1 : 0, Date.now(), chatId] });
  }

  async markDeleted(chatId: string) {
    await this.db.execute({ sql: "UPDATE chats SET deleted_at = ?, updated_at = ? WHERE chat_id = ?", args: [Date.now(), Date.now(), chatId] });
    this.#forget(chatId);
  }

  /** On a fresh opencode process nothing is running: every busy chat was interrupted. */
  async interruptBusy(): Promise<string[]> {
    const rs = await this.db.execute("UPDATE chats SET status = 'interrupted', updated_at = unixepoch() * 1000 WHERE status = 'busy' AND deleted_at IS NULL RETURNING chat_id");
    return rs.rows.map((r) => String(r.chat_id));
  }

  async addCheckpoint(c: Omit<CheckpointRow, "createdAt">) {
    await this.db.execute({
      sql: "INSERT OR IGNORE INTO checkpoints (sha, chat_id, message, files_changed, pushed, created_at) VALUES (?, ?, ?, ?, ?, ?)",
      args: [c.sha, c.chatId, c.message, c.filesChanged, c.pushed ? 1 : 0, Date.now()],
    });
  }

  async checkpoints(chatId: string): Promise<CheckpointRow[]> {
    const rs = await this.db.execute({ sql: "SELECT * FROM checkpoints WHERE chat_id = ? ORDER BY created_at DESC, rowid DESC", args: [chatId] });
    return rs.rows.map((r) => ({
      sha: String(r.sha),
      chatId: String(r.chat_id),
      message: String(r.message),
      filesChanged: Number(r.files_changed),
      pushed: Number(r.pushed) === 1,
      createdAt: Number(r.created_at),
    }));
  }
}
