// npm run bench:report — bench/REPORT.md from the figures the benchmarks just saved (.data/bench/*.json).
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Figure } from "./bench-stats.ts";

const BENCHES = [
  ["box", "Box: new chat, first text, memory", "npm run bench:box"],
  ["proxy", "Worker + box in front of opencode", "npm run bench:proxy"],
  ["ui", "Phone UI against opencode's own web UI", "npm run bench:ui"],
  ["load", "Load: many chats and subscribers at once", "npm run bench:load"],
] as const;

type Saved = { bench: string; at: string; figures: Figure[]; notes: string[] };
const cell = (s: string | undefined) => (s ?? "").replace(/\|/g, "\\|");
const verdict = (f: Figure) => (f.met === undefined ? "" : f.met ? "✓" : "✗ not met");

const cpu = os.cpus();
const lines = [
  "# Benchmark report",
  "",
  `Written by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}. Every anchor was measured in the same run as the figure beside it.`,
  "",
  `Machine: ${cpu.length} × ${cpu[0]?.model.trim() ?? "unknown CPU"}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GB RAM, ${os.platform()} ${os.release()}, Node ${process.version}.`,
  "",
];
for (const [name, title, command] of BENCHES) {
  const file = path.resolve(".data/bench", `${name}.json`);
  lines.push(`## ${title}`, "");
  if (!existsSync(file)) {
    lines.push(`Not run: \`${command}\` saved no figures.`, "");
    continue;
  }
  const saved = JSON.parse(readFileSync(file, "utf8")) as Saved;
  lines.push(`\`${command}\`, ${saved.at}${saved.notes.length ? `; ${saved.notes.join("; ")}` : ""}.`, "");
  lines.push("| figure | ocweb | anchor | ratio | target | |", "|---|---|---|---|---|---|");
  for (const f of saved.figures) lines.push(`| ${cell(f.figure)} | ${cell(f.ocweb)} | ${cell(f.anchor)} | ${cell(f.ratio)} | ${cell(f.target)} | ${verdict(f)} |`);
  lines.push("");
}
writeFileSync("bench/REPORT.md", lines.join("\n"));
console.log(lines.join("\n"));
console.log("\nwritten: bench/REPORT.md");
