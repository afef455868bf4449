// npm run db:migrate — applies drizzle/ to DATABASE_URL (default: the local dev file), e.g. a Turso libsql:// URL.
import { mkdirSync } from "node:fs";
import { createClient } from "@libsql/client";
import { drizzle } from "drizzle-orm/libsql";
import { migrate } from "drizzle-orm/libsql/migrator";

const url = process.env.DATABASE_URL ?? "file:.data/worker.db";
if (url.startsWith("file:")) mkdirSync(".data", { recursive: true });
const client = createClient({ url, authToken: process.env.DATABASE_AUTH_TOKEN });
await migrate(drizzle(client), { migrationsFolder: "drizzle" });
const { rows } = await client.execute("SELECT count(*) AS n FROM __drizzle_migrations");
console.log(`migrations applied to ${url.replace(/\/\/.*@/, "//…@")}: ${rows[0]?.n} in the journal`);
client.close();
