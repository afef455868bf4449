import type { Client } from "@libsql/client";
import { drizzle } from "drizzle-orm/libsql";
import * as schema from "./schema.ts";

export type Db = ReturnType<typeof dbFrom>;
export type DbFactory = (url: string, authToken?: string) => Client;

/** drizzle over a libsql client; the client module differs per runtime (web in workerd, node on Node). */
export function dbFrom(client: Client) {
  return drizzle(client, { schema, casing: "snake_case" });
}
