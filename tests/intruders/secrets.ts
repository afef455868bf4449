import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { format } from "node:util";

export type Secret = { name: string; value: string };

/**
 * Everything printed to this process's console while it runs: Miniflare pipes workerd's stdout and
 * stderr (the worker's console.log/error) through console.log/console.error line by line.
 */
export function captureConsole() {
  const lines: string[] = [];
  const methods = ["log", "error", "warn", "info", "debug"] as const;
  const originals = methods.map((m) => console[m]);
  methods.forEach((m, i) => {
    console[m] = (...args: unknown[]) => {
      lines.push(format(...args));
      originals[i]!.apply(console, args);
    };
  });
  return {
    lines,
    restore: () => methods.forEach((m, i) => void (console[m] = originals[i]!)),
  };
}

/** opencode's own log files under the box's data dir (it also prints them; the box logs those lines). */
export function opencodeLogFiles(dataDir: string): Array<{ where: string; text: string }> {
  const out: Array<{ where: string; text: string }> = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const full = path.join(dir, name);
      const st = statSync(full, { throwIfNoEntry: false });
      if (st?.isDirectory()) walk(full);
      else if (st?.isFile() && name.endsWith(".log")) out.push({ where: `opencode log ${full}`, text: readFileSync(full, "utf8") });
    }
  };
  walk(path.join(dataDir, "opencode"));
  return out;
}

/** A secret in every form it could be printed in: raw, URL-encoded, base64 (e.g. inside a Basic header). */
export function forms(secret: Secret): Secret[] {
  const b64 = Buffer.from(secret.value).toString("base64");
  return [
    secret,
    { name: `${secret.name} (url-encoded)`, value: encodeURIComponent(secret.value) },
    { name: `${secret.name} (base64)`, value: b64.replace(/=+$/, "") },
  ].filter((s, i, all) => s.value.length >= 12 && all.findIndex((o) => o.value === s.value) === i);
}

/** "<secret> in <where>: …context…" for each secret found in each text. */
export function findSecrets(texts: Array<{ where: string; text: string }>, secrets: Secret[]): string[] {
  const found: string[] = [];
  const all = secrets.flatMap(forms);
  for (const { where, text } of texts) {
    for (const s of all) {
      const at = text.indexOf(s.value);
      if (at >= 0) found.push(`${s.name} in ${where}: …${text.slice(Math.max(0, at - 60), at + s.value.length + 20)}…`);
    }
  }
  return found;
}
