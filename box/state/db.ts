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
  `CREATE TABLE IF NOT EXISTS settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
  )`,
];

/** The box's own durable state: chats, the prompt ledger and its registration, in a local libsql file. */
export async function openStateDb(file: string): Promise<Client> {
  mkdirSync(path.dirname(file), { recursive: true });
  const db = createClient({ url: `file:${file}` });
  await db.execute("PRAGMA journal_mode = WAL");
  await db.execute("PRAGMA busy_timeout = 5000");
  await db.batch(schema, "write");
  await addColumn(db, "prompts", "attempts", "INTEGER NOT NULL DEFAULT 0");
  return db;
}

/** A column added after the table first shipped: boxes with an older box.db get it on start. */
async function addColumn(db: Client, table: string, column: string, type: string) {
  const columns = await db.execute(`PRAGMA table_info(${table})`);
  if (!columns.rows.some((r) => r.name === column)) await db.execute(`ALTER TABLE ${table} ADD COLUMN ${column} ${type}`);
}

/** What a box got when it registered with the worker (OCWEB_REGISTRATION_KEY): it keeps it for good. */
export type Registration = { boxId: string; token: string; workerUrl: string; registeredAt: number };

export async function storedRegistration(db: Client): Promise<Registration | undefined> {
  const rs = await db.execute({ sql: "SELECT value FROM settings WHERE key = 'registration'", args: [] });
  const value = rs.rows[0]?.value;
  return typeof value === "string" ? (JSON.parse(value) as Registration) : undefined;
}

export async function storeRegistration(db: Client, registration: Registration): Promise<void> {
  await db.execute({ sql: "INSERT INTO settings (key, value) VALUES ('registration', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", args: [JSON.stringify(registration)] });
}
