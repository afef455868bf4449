import { stat } from "node:fs/promises";

export async function exists(p: string): Promise<boolean> {
  return stat(p).then(() => true, () => false);
}
