import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

export type Shown = { id: number; summary: string; body: string };
export type NotificationCenter = Awaited<ReturnType<typeof startNotificationCenter>>;

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
  const socket = net.connect(address.replace(/^unix:path=/, "").split(",")[0]!);
  const shown: Shown[] = [];
  let serial = 0;
  let nextId = 1;
  const send = (m: Outgoing) => socket.write(encode({ ...m, serial: ++serial }));
  const NOTIFY = { path: "/org/freedesktop/Notifications", iface: "org.freedesktop.Notifications" };
  const signal = (member: string, body: Body) => send({ type: 4, ...NOTIFY, member, body });

  const onMessage = (m: Incoming) => {
    if (m.type !== 1 || m.iface !== NOTIFY.iface) return;
    const reply = (body: Body) => send({ type: 2, replySerial: m.serial, destination: m.sender, body });
    if (m.member === "GetCapabilities") return reply([["as", ["actions", "body"]]]);
    if (m.member === "GetServerInformation") return reply([["s", "ocweb-test"], ["s", "ocweb"], ["s", "1.0"], ["s", "1.2"]]);
    if (m.member === "Notify") {
      // susssasa{sv}i: app_name, replaces_id, app_icon, summary, body, … (the rest is not needed)
      const r = new Reader(m.raw, m.bodyAt);
      r.str();
      const replaces = r.u32();
      r.str();
      const [summary, body] = [r.str(), r.str()];
      const id = replaces || nextId++;
      shown.splice(0, shown.length, ...shown.filter((n) => n.id !== id), { id, summary, body });
      return reply([["u", id]]);
    }
    if (m.member === "CloseNotification") {
      const id = new Reader(m.raw, m.bodyAt).u32();
      shown.splice(0, shown.length, ...shown.filter((n) => n.id !== id));
      reply([]);
      return signal("NotificationClosed", [["u", id], ["u", 3]]);
    }
    send({ type: 3, replySerial: m.serial, destination: m.sender, error: "org.freedesktop.DBus.Error.UnknownMethod", body: [] });
  };

  // SASL EXTERNAL (our uid), then Hello and RequestName; the name's reply (serial 2) means Chromium can find us.
  socket.write(`\0AUTH EXTERNAL ${Buffer.from(String(process.getuid?.() ?? 0)).toString("hex")}\r\n`);
  let buf = Buffer.alloc(0);
  let authed = false;
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.on("data", (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      if (!authed) {
        const end = buf.indexOf("\r\n");
        if (end < 0) return;
        if (!buf.toString("utf8", 0, end).startsWith("OK")) return reject(new Error(`dbus auth failed: ${buf.toString()}`));
        authed = true;
        buf = buf.subarray(end + 2);
        socket.write("BEGIN\r\n");
        const bus = { path: "/org/freedesktop/DBus", iface: "org.freedesktop.DBus", destination: "org.freedesktop.DBus" };
        send({ type: 1, ...bus, member: "Hello", body: [] });
        send({ type: 1, ...bus, member: "RequestName", body: [["s", "org.freedesktop.Notifications"], ["u", 4]] });
      }
      for (let m = decode(buf); m; m = decode(buf)) {
        buf = buf.subarray(m.length);
        if (m.type === 2 && m.replySerial === 2) resolve();
        onMessage(m);
      }
    });
  });

  return {
    address,
    /** What the "lock screen" shows now, oldest first. */
    shown: () => [...shown],
    /** The user taps the notification. */
    click: (id: number) => signal("ActionInvoked", [["u", id], ["s", "default"]]),
    async stop() {
      socket.destroy();
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

// D-Bus wire format, little-endian, only the types this server speaks: s, u, as (and o/g in headers).
type Value = ["s" | "o" | "g", string] | ["u", number] | ["as", string[]];
type Body = Value[];
type Outgoing = { type: 1 | 2 | 3 | 4; path?: string; iface?: string; member?: string; destination?: string; replySerial?: number; error?: string; body: Body };
type Incoming = { type: number; serial: number; replySerial?: number; path?: string; iface?: string; member?: string; sender?: string; raw: Buffer; bodyAt: number; length: number };

class Writer {
  bytes: number[] = [];
  pad(n: number) {
    while (this.bytes.length % n) this.bytes.push(0);
  }
  u32(v: number) {
    this.pad(4);
    for (let i = 0; i < 4; i++) this.bytes.push((v >>> (8 * i)) & 0xff);
  }
  str(s: string, short = false) {
    const b = Buffer.from(s);
    if (short) this.bytes.push(b.length);
    else this.u32(b.length);
    this.bytes.push(...b, 0);
  }
  /** An array's length goes before its first element (at `at`), once the elements are written. */
  patchLength(at: number) {
    const len = this.bytes.length - at;
    for (let i = 0; i < 4; i++) this.bytes[at - 4 + i] = (len >>> (8 * i)) & 0xff;
  }
  value([sig, v]: Value) {
    if (sig === "u") return this.u32(v);
    if (sig === "as") {
      this.u32(0);
      const at = this.bytes.length;
      for (const s of v) this.str(s);
      return this.patchLength(at);
    }
    this.str(v, sig === "g");
  }
}

function encode(m: Outgoing & { serial: number }): Buffer {
  const body = new Writer();
  for (const v of m.body) body.value(v);
  const fields: Array<[number, Value]> = [];
  if (m.path) fields.push([1, ["o", m.path]]);
  if (m.iface) fields.push([2, ["s", m.iface]]);
  if (m.member) fields.push([3, ["s", m.member]]);
  if (m.error) fields.push([4, ["s", m.error]]);
  if (m.replySerial) fields.push([5, ["u", m.replySerial]]);
  if (m.destination) fields.push([6, ["s", m.destination]]);
  if (m.body.length) fields.push([8, ["g", m.body.map((v) => v[0]).join("")]]);
  const h = new Writer();
  h.bytes.push("l".charCodeAt(0), m.type, 0, 1);
  h.u32(body.bytes.length);
  h.u32(m.serial);
  h.u32(0);
  const at = h.bytes.length;
  for (const [code, v] of fields) {
    h.pad(8);
    h.bytes.push(code);
    h.str(v[0], true);
    h.value(v);
  }
  h.patchLength(at);
  h.pad(8);
  return Buffer.from([...h.bytes, ...body.bytes]);
}

class Reader {
  constructor(readonly raw: Buffer, public at: number) {}
  u32() {
    this.at += (4 - (this.at % 4)) % 4;
    const v = this.raw.readUInt32LE(this.at);
    this.at += 4;
    return v;
  }
  str(short = false) {
    const len = short ? this.raw[this.at++]! : this.u32();
    const s = this.raw.toString("utf8", this.at, this.at + len);
    this.at += len + 1;
    return s;
  }
}

function decode(buf: Buffer): Incoming | undefined {
  if (buf.length < 16) return undefined;
  const fieldsLen = buf.readUInt32LE(12);
  const bodyAt = 16 + fieldsLen + ((8 - ((16 + fieldsLen) % 8)) % 8);
  const length = bodyAt + buf.readUInt32LE(4);
  if (buf.length < length) return undefined;
  const raw = Buffer.from(buf.subarray(0, length));
  const m: Incoming = { type: raw[1]!, serial: raw.readUInt32LE(8), raw, bodyAt, length };
  const r = new Reader(raw, 16);
  while (r.at < 16 + fieldsLen) {
    r.at += (8 - (r.at % 8)) % 8;
    const code = raw[r.at++]!;
    const sig = r.str(true);
    const v = sig === "u" ? r.u32() : r.str(sig === "g");
    if (code === 1) m.path = String(v);
    if (code === 2) m.iface = String(v);
    if (code === 3) m.member = String(v);
    if (code === 5) m.replySerial = Number(v);
    if (code === 7) m.sender = String(v);
  }
  return m;
}
