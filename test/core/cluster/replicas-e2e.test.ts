import { describe, expect, it } from 'vitest';
import { MetricsToken } from '../../../core/observe/metrics.js';
import { StatusToken } from '../../../core/observe/status.js';
import type { Bot } from '../../../core/runtime/bot.js';
import type { RunningSimulator } from '../../../simulator/index.js';
import { useReplicas } from '../../helpers/replicas.js';

const shared = process.env.DINGOPS_TEST_STORAGE === 'postgres';
const replicas = useReplicas();

const pongs = (s: RunningSimulator) =>
  s.client.botMessages('ops').filter((m) => m.content.toLowerCase().includes('pong')).length;

describe('several replicas on one PostgreSQL, through the simulator', () => {
  it('answer every message once, whichever connection DingTalk picks, and see each other', async () => {
    if (!shared) return;
    const {
      sim: s,
      bots: [a],
    } = await replicas(2);
    expect(s.client.api.connections()).toBe(2);
    for (let i = 0; i < 20; i++) await s.client.as('bob').say('ping', { group: 'ops' });
    await s.client.until(() => pongs(s) >= 20 || undefined, 10_000, '20 answers');
    await new Promise((r) => setTimeout(r, 300));
    expect(pongs(s)).toBe(20);
    // Each sees the other by its next heartbeat (every 2 s).
    const line = async () =>
      (await (a as Bot).resolve(StatusToken).collect()).find((l) => l.name === 'replicas')?.detail ?? '';
    const seen = Date.now();
    while (!/^2 live/.test(await line()) && Date.now() - seen < 5_000)
      await new Promise((r) => setTimeout(r, 200));
    expect(await line()).toMatch(/^2 live/);
  });

  it('answer alone, once each, after one replica stops (a rolling restart)', async () => {
    if (!shared) return;
    const {
      sim: s,
      bots: [, b],
    } = await replicas(2);
    for (let i = 0; i < 20; i++) await s.client.as('bob').say('ping', { group: 'ops' });
    await s.client.until(() => pongs(s) >= 20 || undefined, 10_000, '20 answers');
    await (b as Bot).stop('test');
    // Pushes go to open connections only (one still closing may lose a push: the simulator drops it).
    await s.client.until(
      () => (s.client.api.connections() === 1 ? true : undefined),
      5_000,
      'one connection',
    );
    for (let i = 0; i < 5; i++) await s.client.as('bob').say('ping', { group: 'ops' });
    await s.client.until(() => pongs(s) >= 25 || undefined, 10_000, '5 more answers');
    expect(pongs(s)).toBe(25);
  });

  it('in leader mode one replica holds the connection and another takes it over when it goes', async () => {
    if (!shared) return;
    const {
      sim: s,
      bots: [a, b],
    } = await replicas(
      2,
      { dingtalk: '  stream:\n    connections: leader\n' },
      { streamConnections: 'newest' },
    );
    const state = (bot: Bot) => bot.transports[0]?.state().status;
    await s.client.until(() => (state(a as Bot) === 'connected' ? true : undefined), 5_000, 'a leader');
    expect(state(b as Bot)).toBe('standby');
    expect(s.client.api.connections()).toBe(1);
    // /metrics says who leads, and each replica's heartbeat.
    const scrape = (bot: Bot) => bot.resolve(MetricsToken).registry.metrics();
    expect(await scrape(a as Bot)).toMatch(/^dingops_stream_leader 1$/m);
    expect(await scrape(b as Bot)).toMatch(/^dingops_stream_leader 0$/m);
    expect(await scrape(a as Bot)).toMatch(
      /^dingops_replica_heartbeat_age_seconds\{replica="[^"]+"\} [\d.]+$/m,
    );
    expect((await s.client.as('bob').ask('ping', { group: 'ops' })).content.toLowerCase()).toContain('pong');
    const before = pongs(s);
    await (a as Bot).stop('test');
    const stoppedAt = Date.now();
    await s.client.until(() => (state(b as Bot) === 'connected' ? true : undefined), 8_000, 'the takeover');
    expect(Date.now() - stoppedAt).toBeLessThan(5_000);
    await s.client.as('bob').say('ping', { group: 'ops' });
    await s.client.until(() => pongs(s) > before || undefined, 5_000, 'an answer after the takeover');
  });
});
