import { createMemo, Show } from "solid-js";
import "./usage-badge.css";

/** A chat's totals as the worker keeps them; `& object` lets any chat view in, with or without them. */
export type UsageTotals = { costUsd?: number; tokensIn?: number; tokensOut?: number } & object;
type Totals = { costUsd: number; tokensIn: number; tokensOut: number };
/** What the badge reads from an opencode message: assistant messages carry cost and tokens. */
type MessageInfo = { role: string; cost?: number; tokens?: { input: number; output: number; reasoning: number; cache: { read: number; write: number } } };

/** "$0.42", "<$0.01" for a cost under a cent, whole dollars from $100. */
export function formatCost(usd: number): string {
  if (usd > 0 && usd < 0.01) return "<$0.01";
  return `$${usd.toFixed(usd >= 100 ? 0 : 2)}`;
}

/** 950 → "950", 12_345 → "12.3k", 1_234_567 → "1.2M". */
export function formatTokens(n: number): string {
  if (n < 1000) return String(n);
  if (n < 999_500) return `${(n / 1000).toFixed(n < 99_950 ? 1 : 0)}k`;
  return `${(n / 1_000_000).toFixed(1)}M`;
}

/** Sums opencode's own numbers over the loaded assistant messages (the same sums the box reports). */
export function messagesUsage(messages: ReadonlyArray<{ info: MessageInfo }>): Totals {
  const sum: Totals = { costUsd: 0, tokensIn: 0, tokensOut: 0 };
  for (const { info } of messages) {
    if (info.role !== "assistant" || !info.tokens) continue;
    sum.costUsd += info.cost ?? 0;
    sum.tokensIn += info.tokens.input + info.tokens.cache.read + info.tokens.cache.write;
    sum.tokensOut += info.tokens.output + info.tokens.reasoning;
  }
  return sum;
}

/**
 * "$0.42 · 12.3k tok" for the chat header. The worker's totals land after the run ends (and its
 * checkpoint); the loaded messages count live but may be only the newest page: show the larger.
 */
export function UsageBadge(props: { chat?: UsageTotals; messages?: ReadonlyArray<{ info: MessageInfo }> }) {
  const totals = createMemo((): Totals => {
    const live = messagesUsage(props.messages ?? []);
    return {
      costUsd: Math.max(props.chat?.costUsd ?? 0, live.costUsd),
      tokensIn: Math.max(props.chat?.tokensIn ?? 0, live.tokensIn),
      tokensOut: Math.max(props.chat?.tokensOut ?? 0, live.tokensOut),
    };
  });
  const tokens = () => totals().tokensIn + totals().tokensOut;
  const detail = () =>
    `${formatCost(totals().costUsd)} so far: ${totals().tokensIn.toLocaleString()} tokens in, ${totals().tokensOut.toLocaleString()} out`;
  return (
    <Show when={tokens() > 0}>
      <span class="usage-badge" title={detail()} aria-label={detail()}>
        {formatCost(totals().costUsd)} · {formatTokens(tokens())} tok
      </span>
    </Show>
  );
}
