import { describe, expect, it } from "vitest";
import { percentile } from "../../bench/bench-stats.ts";
import { runLoad } from "./load-run.ts";

describe("load", () => {
  it("20 chats streaming at once, 3 subscribers each through worker and box: all complete, no event lost", async () => {
    const r = await runLoad({ chats: 20, subscribers: 3 });
    console.log(
      `load: ${r.chats} chats × ${r.subscribers} subscribers, ${r.completed} completed in ${r.seconds.toFixed(1)} s; ` +
        `${r.deltas} text deltas, ${r.lost} lost, ${r.mismatches.length} transcripts differing from the stored messages; ` +
        `added delay (worker + box vs opencode directly) p50 ${percentile(r.delays, 50).toFixed(1)} ms, p99 ${percentile(r.delays, 99).toFixed(1)} ms`,
    );
    expect(r.completed).toBe(20);
    expect(r.deltas).toBeGreaterThan(20 * 50);
    expect(r.lost).toBe(0);
    expect(r.mismatches).toEqual([]);
    expect(r.delays).toHaveLength(r.deltas * r.subscribers);
  }, 400_000);
});
