import pino from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiBudget } from '../../../../core/deliver/openapi/api-budget.js';
import { SqlKeyValueStore } from '../../../../core/storage/kv-store.js';
import { createSimBot, type SimBot } from '../../../helpers/sim-bot.js';
import { useMigratedStore } from '../../../helpers/storage.js';

const useStore = useMigratedStore();
/** 10 days into a 30-day month. */
const NOW = Date.UTC(2026, 10, 11);

/** A budget on the test store, as a replica starts one (`limit` calls a month). */
const budgetOf = (limit: number) =>
  new ApiBudget(
    useStore().db,
    new SqlKeyValueStore(useStore().db, 'core'),
    limit,
    pino({ level: 'silent' }),
    new Registry(),
    () => NOW,
  );

describe('ApiBudget', () => {
  it('warns once at 80 % and once at 95 %, keeps the count across restarts, and projects month end', async () => {
    const warnings: number[] = [];
    const budget = budgetOf(20);
    budget.onWarning = (t) => void warnings.push(t);
    await budget.start();
    for (let i = 0; i < 16; i++) budget.count();
    expect(warnings).toEqual([0.8]);
    for (let i = 0; i < 3; i++) budget.count();
    expect(warnings).toEqual([0.8, 0.95]);
    expect(budget.snapshot()).toEqual({
      month: '2026-11',
      used: 19,
      limit: 20,
      projected: 57,
      exhausted: false,
    });
    await budget.stop();
    const again = budgetOf(20);
    again.onWarning = (t) => void warnings.push(t);
    await again.start();
    again.count();
    expect(again.snapshot().used).toBe(20);
    expect(warnings).toEqual([0.8, 0.95]);
    await again.stop();
  });
});

describe('ApiBudget when DingTalk says the quota is used up', () => {
  it('warns once a month at 100 %, whatever the count, and remembers it across restarts', async () => {
    const warnings: number[] = [];
    const budget = budgetOf(10_000);
    budget.onWarning = (t) => void warnings.push(t);
    await budget.start();
    budget.count();
    // The edition's real quota is lower than configured: DingTalk refuses (legacy 88/90020).
    budget.exhausted();
    budget.exhausted();
    expect(warnings).toEqual([1]);
    expect(budget.snapshot()).toMatchObject({ used: 1, exhausted: true });
    await budget.stop();
    const again = budgetOf(10_000);
    again.onWarning = (t) => void warnings.push(t);
    await again.start();
    again.exhausted();
    expect(warnings).toEqual([1]);
    expect(again.snapshot().exhausted).toBe(true);
    await again.stop();
  });
});

describe('ApiBudget shared by replicas', () => {
  it('keeps one count: each adds what it counted, and reads back the total', async () => {
    const a = budgetOf(1000);
    const b = budgetOf(1000);
    await a.start();
    await b.start();
    for (let i = 0; i < 7; i++) a.count();
    for (let i = 0; i < 5; i++) b.count();
    await a.save();
    await b.save();
    // b read the total after both had added theirs; a learns it on its next save.
    expect(b.snapshot().used).toBe(12);
    a.count();
    await a.save();
    expect(a.snapshot().used).toBe(13);
    await a.stop();
    await b.stop();
  });

  it('carries over a count kept by an earlier version (in the key-value store)', async () => {
    const kv = new SqlKeyValueStore(useStore().db, 'core');
    await kv.set('api-usage:2026-11', { used: 41, warned: [] });
    const budget = budgetOf(1000);
    await budget.start();
    budget.count();
    expect(budget.snapshot().used).toBe(42);
    await budget.stop();
  });
});

describe('monthly budget warnings reach the admins', () => {
  let sb: SimBot | undefined;
  afterEach(async () => sb?.stop());

  it('sends the admins a direct message when 80 % of the quota is used', async () => {
    // Replies go through the metered OpenAPI (webhooks expire at once): 4 of 5 calls is 80 %.
    sb = await createSimBot({
      dingtalk: '  limits:\n    monthlyCalls: 5\n',
      sim: { sessionWebhookTtlMs: 1000 },
    });
    const { client } = sb.sim;
    for (let i = 0; i < 4; i++) await client.as('bob').ask('ping', { group: 'ops' });
    const warning = await client.nextReply('dm:alice', { after: 0, timeoutMs: 5000 });
    expect(warning.content).toContain('80% of the monthly quota');
    expect(warning.content).toContain('dingtalk.limits.monthlyCalls');
    expect(sb.logs.text).toContain('passed 80% of the monthly quota');
  });
});
