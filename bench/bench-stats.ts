import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";

/** Nearest-rank percentile of a sample (p in 0..100). */
export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(Math.max(rank - 1, 0), sorted.length - 1)]!;
}

export const fmtMs = (x: number, digits = 2) => (Number.isFinite(x) ? `${x.toFixed(digits)} ms` : "n/a");

/** Prints rows as aligned columns; the first row is the header. */
export function printTable(rows: string[][]): void {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) => r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("   ");
  console.log(line(rows[0]!));
  console.log(widths.map((w) => "-".repeat(w)).join("   "));
  for (const r of rows.slice(1)) console.log(line(r));
}

/** One line of bench/REPORT.md: ocweb's figure beside its anchor (measured in the same run) and its target. */
export type Figure = { figure: string; ocweb: string; anchor?: string; ratio?: string; target?: string; met?: boolean };

/** Saves a benchmark's figures for `npm run bench:report` (bench/report.ts), which writes bench/REPORT.md. */
export function recordFigures(bench: string, figures: Figure[], notes: string[] = []): void {
  const dir = path.resolve(".data/bench");
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, `${bench}.json`), JSON.stringify({ bench, at: new Date().toISOString(), figures, notes }, null, 2));
}
