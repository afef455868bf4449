import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { startBox } from "./box.ts";
import type { BoxEnv } from "./env.ts";

/** Starts the box and its HTTP listener; resolves once both are up. */
export async function serveBox(env: BoxEnv, log?: (line: string) => void) {
  const box = await startBox(env, log);
  const server = serve({ fetch: box.app.fetch, hostname: env.host, port: env.port });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("listening", resolve);
      server.once("error", reject);
    });
  } catch (err) {
    await box.stop();
    const busy = (err as NodeJS.ErrnoException).code === "EADDRINUSE";
    throw new Error(busy ? `box: ${env.host}:${env.port} is already in use (set BOX_PORT)` : `box: cannot listen: ${(err as Error).message}`);
  }
  const { port } = server.address() as AddressInfo;
  return {
    box,
    url: `http://${env.host}:${port}`,
    async close() {
      server.close();
      await box.stop();
    },
  };
}

/** Stops cleanly on the first SIGINT/SIGTERM (opencode's process group included). */
export function closeOnSignals(close: () => Promise<void>) {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => void close().then(() => process.exit(0)));
  }
}
