import { statfsSync } from "node:fs";
import path from "node:path";

/** statfs of `dir`, or of its nearest existing ancestor (the data dir may not exist yet). */
export function statfsNearest(dir: string) {
  try {
    return statfsSync(dir);
  } catch {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`statfs failed for ${dir}`);
    return statfsNearest(parent);
  }
}
