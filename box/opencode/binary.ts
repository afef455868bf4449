import { accessSync, constants } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(import.meta.url);

function candidates(): string[] {
  const arch = process.arch === "arm64" ? "arm64" : "x64";
  const base = `opencode-${process.platform}-${arch}`;
  return [base, `${base}-baseline`, `${base}-musl`, `${base}-baseline-musl`];
}

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The native opencode binary, not the node wrapper in opencode-ai/bin: signals sent to the wrapper
 * do not reliably reach the real server, which then outlives the box.
 */
export function resolveOpencodeBinary(explicit?: string): string {
  if (explicit) {
    const file = path.resolve(explicit);
    if (!executable(file)) throw new Error(`OPENCODE_BIN=${explicit} is not an executable file`);
    return file;
  }
  for (const name of candidates()) {
    let pkg: string;
    try {
      pkg = require.resolve(`${name}/package.json`);
    } catch {
      continue;
    }
    const file = path.join(path.dirname(pkg), "bin", "opencode");
    if (executable(file)) return file;
  }
  throw new Error(
    `opencode binary not found (looked for ${candidates().join(", ")}). ` +
      "Run `npm install` (optional dependencies of opencode-ai must not be skipped) or set OPENCODE_BIN to the binary's path.",
  );
}
