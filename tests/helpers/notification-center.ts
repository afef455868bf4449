import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createClient } from "@homebridge/dbus-native";

export type Shown = { id: number; summary: string; body: string };
export type NotificationCenter = Awaited<ReturnType<typeof startNotificationCenter>>;

// The parts of the library that its index.d.ts leaves out.
declare module "@homebridge/dbus-native" {
  function createClient(opts: { busAddress: string }): MessageBus;
  interface MessageBus {
    requestName(name: string, flags: number, callback: (error: { name: string; message: string } | null, reply: number) => void): void;
    exportInterface(impl: object, path: string, iface: { name: string; methods: Record<string, string[]>; signals: Record<string, string[]> }): void;
    sendSignal(path: string, iface: string, member: string, signature: string, body: unknown[]): void;
  }
}

const NAME = "org.freedesktop.Notifications";
const PATH = "/org/freedesktop/Notifications";

/**
 * The desktop's notification server, standing in for the phone's lock screen: a private D-Bus session
 * bus (dbus-daemon) and a client owning org.freedesktop.Notifications. Chromium on Linux shows web
 * notifications through it, and `click(id)` emits ActionInvoked(id, "default"), which Chromium turns
 * into a real `notificationclick` (with the user activation that focus() and openWindow() require).
 * Point Chromium at `address` through DBUS_SESSION_BUS_ADDRESS before it starts.
 */
export async function startNotificationCenter() {
  const dir = mkdtempSync(path.join(os.tmpdir(), "ocweb-dbus-"));
  const daemon = spawn("dbus-daemon", ["--session", "--nofork", "--print-address=1", `--address=unix:path=${path.join(dir, "bus")}`], { stdio: ["ignore", "pipe", "inherit"] });
  const address = await firstLine(daemon);
  const bus = createClient({ busAddress: address });
  const shown: Shown[] = [];
  let nextId = 1;
  const signal = (member: string, signature: string, ...body: unknown[]) => bus.sendSignal(PATH, NAME, member, signature, body);
  const remove = (id: number) => shown.splice(0, shown.length, ...shown.filter((n) => n.id !== id));

  bus.exportInterface(
    {
      GetCapabilities: () => ["actions", "body"],
      GetServerInformation: () => ["ocweb-test", "ocweb", "1.0", "1.2"],
      Notify(_app: string, replaces: number, _icon: string, summary: string, body: string) {
        const id = replaces || nextId++;
        remove(id);
        shown.push({ id, summary, body });
        return id;
      },
      CloseNotification(id: number) {
        remove(id);
        signal("NotificationClosed", "uu", id, 3);
      },
    },
    PATH,
    {
      name: NAME,
      methods: { GetCapabilities: ["", "as"], GetServerInformation: ["", "ssss"], Notify: ["susssasa{sv}i", "u"], CloseNotification: ["u", ""] },
      signals: { ActionInvoked: ["us"], NotificationClosed: ["uu"] },
    },
  );
  // Once the name is ours, Chromium can find us.
  await new Promise<void>((resolve, reject) => {
    bus.connection.on("error", reject); // stays on: an unheard "error" would throw once the daemon is gone
    bus.requestName(NAME, 4, (err, reply) => (err || reply !== 1 ? reject(new Error(`dbus RequestName: ${err?.message ?? reply}`)) : resolve()));
  });

  return {
    address,
    /** What the "lock screen" shows now, oldest first. */
    shown: () => [...shown],
    /** The user taps the notification. */
    click: (id: number) => signal("ActionInvoked", "us", id, "default"),
    async stop() {
      bus.connection.stream.destroy();
      daemon.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`dbus-daemon exited (${code})`)));
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("\n")) resolve(out.split("\n")[0]!.trim());
    });
  });
}
