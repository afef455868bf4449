import net from "node:net";
import type { AddressInfo } from "node:net";

export type FaultProxy = Awaited<ReturnType<typeof startFaultProxy>>;

/**
 * A TCP proxy on loopback in front of a server, for injecting network faults between two real parts:
 * refuse new connections (the target looks unreachable), cut every open connection (streams and
 * requests in flight end mid-way), or pass everything through.
 */
export async function startFaultProxy(target: { host?: string; port: number }) {
  const open = new Set<net.Socket>();
  let refusing = false;
  let cuts = 0;
  const server = net.createServer((client) => {
    if (refusing) return void client.resetAndDestroy();
    const upstream = net.connect(target.port, target.host ?? "127.0.0.1");
    for (const s of [client, upstream]) {
      open.add(s);
      s.on("close", () => open.delete(s));
      s.on("error", () => undefined);
    }
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    /** New connections are reset at once until pass(). */
    refuse() {
      refusing = true;
    },
    pass() {
      refusing = false;
    },
    /** Resets every open connection; answers how many were cut. */
    cutAll(): number {
      const n = open.size;
      for (const s of open) s.resetAndDestroy();
      cuts += n;
      return n;
    },
    get openConnections() {
      return open.size;
    },
    get cuts() {
      return cuts;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
}
