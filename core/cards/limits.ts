/** DingTalk size limits that renderers respect (docs/dingtalk-protocol.md §5.3, §5.6.1). */
export const LIMITS = {
  /** Whole message body (robot send msgParam / webhook body). */
  messageBytes: 20_000,
  /** Markdown we aim for: long enough for a digest, short enough to read on a phone. */
  markdownBytes: 6_000,
  /** Interactive card: each cardParamMap value. */
  cardParamValueBytes: 1_000,
  /** Action card button count (sampleActionCard2..5). */
  actionCardButtons: 5,
} as const;

export type RenderLimits = { markdownBytes: number; messageBytes: number; cardParamValueBytes: number };
