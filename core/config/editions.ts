export const EDITIONS = ['standard', 'professional', 'exclusive'] as const;
export type Edition = (typeof EDITIONS)[number];

/**
 * Default API budgets per DingTalk edition. The standard edition's 20 QPS per app per API
 * and 10,000 metered calls a month come from DingTalk's throttling doc and help center
 * (one later doc copy says 5,000; override with `dingtalk.limits.monthlyCalls`).
 * DingTalk publishes no figures for the paid editions; the values below are assumptions
 * to be overridden from the order the organisation bought.
 */
export const EDITION_LIMITS: Record<Edition, { qps: number; monthlyCalls: number }> = {
  standard: { qps: 20, monthlyCalls: 10_000 },
  professional: { qps: 20, monthlyCalls: 500_000 },
  exclusive: { qps: 40, monthlyCalls: 5_000_000 },
};
