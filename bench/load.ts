// npm run bench:load — 20 chats streaming at once through worker (workerd) and box, 3 subscribers each.
import os from "node:os";
import { buildWorker } from "../tests/helpers/worker-harness.ts";
import { runLoad } from "../tests/load/load-run.ts";
import { fmtMs, percentile, printTable, recordFigures } from "./bench-stats.ts";

const CHATS = Number(process.env.BENCH_CHATS ?? 20);
const SUBSCRIBERS = Number(process.env.BENCH_SUBSCRIBERS ?? 3);

console.log(`bench:load — ${CHATS} chats × ${SUBSCRIBERS} subscribers; building the worker, starting sqld, workerd, the box and opencode…`);
await buildWorker();
const r = await runLoad({ chats: CHATS, subscribers: SUBSCRIBERS });
const [p50, p99] = [percentile(r.delays, 50), percentile(r.delays, 99)];
console.log(`\nload benchmark — ${new Date().toISOString()}, ${os.cpus().length} cores, node ${process.version}\n`);
printTable([
  ["figure", "value", "target"],
  ["chats completed", `${r.completed} / ${r.chats} in ${r.seconds.toFixed(1)} s`, "all"],
  ["text deltas opencode sent (read directly)", String(r.deltas), ""],
  [`deltas lost over ${r.chats * r.subscribers} subscribers`, String(r.lost), "0"],
  ["transcripts differing from the stored messages", String(r.mismatches.length), "0"],
  ["added delay per delta, worker + box vs direct, p50", fmtMs(p50), ""],
  ["added delay per delta, worker + box vs direct, p99", fmtMs(p99), "reported"],
]);
recordFigures("load", [
  { figure: `${r.chats} chats × ${r.subscribers} subscribers: chats completed`, ocweb: `${r.completed} / ${r.chats} (${r.seconds.toFixed(1)} s)`, target: "all", met: r.completed === r.chats },
  { figure: "text deltas lost / transcripts differing from stored messages", ocweb: `${r.lost} / ${r.mismatches.length} (of ${r.deltas} deltas × ${r.subscribers})`, target: "0 / 0", met: r.lost === 0 && r.mismatches.length === 0 },
  { figure: "added delay per delta under load, p50 / p99", ocweb: `${fmtMs(p50)} / ${fmtMs(p99)}`, anchor: "the same delta read from opencode directly", target: "reported" },
]);
