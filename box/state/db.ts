import { mkdirSync } from "node:fs";
import path from "node:path";
import { createClient, type Client } from "@libsql/client";

const schema = [
  `CREATE TABLE IF NOT EXISTS chats (
    chat_id TEXT PRIMARY KEY,
    repo TEXT NOT NULL,
    branch TEXT NOT NULL,
    base TEXT NOT NULL,
    base_commit TEXT NOT NULL,
    worktree TEXT NOT NULL,
    session_id TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'idle',
    archived INTEGER NOT NULL DEFAULT 0,
    deleted_at INTEGER,
    last_error TEXT,
    setup_state TEXT NOT NULL DEFAULT 'none',
    setup_output TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  )`,
  `CREATE UNIQUE INDEX IF NOT EXISTS chats_session ON chats(session_id)`,
  `CREATE INDEX IF NOT EXISTS chats_worktree ON chats(worktree)`,
  `CREATE TABLE IF NOT EXISTS prompts (
    prompt_id TEXT PRIMARY KEY,
    chat_id TEXT NOT NULL,
    text TEXT NOT NULL,
    input TEXT NOT NULL,
    state TEXT NOT NULL,
    message_id TEXT,
    error TEXT,
    created_at INTEGER NOT NULL,
    sent_at INTEGER
  )`,
  `CREATE INDEX IF NOT EXISTS prompts_chat_state ON prompts(chat_id, state, created_at)`,
  `CREATE TABLE IF NOT EXISTS checkpoints (
    sha TEXT PRIMARY KEY,
    chat_id TEXT NOT NULL,
    message TEXT NOT NULL,
    files_changed INTEGER NOT NULL,
    pushed INTEGER NOT NULL,
    created_at INTEGER NOT NULL
  )`,
];

/** The box's own durable state: chats and the prompt ledger, in a local libsql file. */
export async function openStateDb(file: string): Promise<Client> {
  mkdirSync(path.dirname(file), { recursive: true });
  const db = createClient({ url: `file:${file}` });
  await db.execute("PRAGMA journal_mode = WAL");
  await db.execute("PRAGMA busy_timeout = 5000");
  await db.batch(schema, "write");
  return db;
}
