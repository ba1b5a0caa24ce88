import { afterEach, describe, expect, it } from 'vitest';
import type { Bot } from '../../../core/runtime/bot.js';
import { type RunningSimulator, startSimulator } from '../../../simulator/index.js';
import { robotMessagePayload, TOPIC_ROBOT } from '../../../simulator/robot-push.js';
import { startBotOnSimulator } from '../../../testing/index.js';
import {
  canRunPrivatePostgres,
  type PrivatePostgres,
  startPrivatePostgres,
} from '../../helpers/private-postgres.js';
import { LogCapture } from '../../helpers/test-bot.js';

/**
 * PostgreSQL restarting under two replicas (`pg_ctl stop -m fast`, then start): no replica
 * exits, both say the store is down on /readyz while it is, and both answer again once it is
 * back, without a restart of their own. A PostgreSQL server of the test's own, since the
 * shared one serves other test files.
 */
const runs = process.env.DINGOPS_TEST_STORAGE === 'postgres' && canRunPrivatePostgres();

let pg: PrivatePostgres | undefined;
let sim: RunningSimulator | undefined;
let bots: Bot[] = [];
afterEach(async () => {
  for (const b of bots) await b.stop('test').catch(() => undefined);
  bots = [];
  await sim?.stop();
  sim = undefined;
  pg?.destroy();
  pg = undefined;
});

describe('PostgreSQL restarting under two replicas', () => {
  it.runIf(runs)(
    'rides through it: nobody exits, /readyz says why, and chat answers again once it is back',
    async () => {
      const escaped: unknown[] = [];
      const onEscape = (reason: unknown) => void escaped.push(reason);
      process.on('unhandledRejection', onEscape);
      process.on('uncaughtException', onEscape);
      try {
        pg = await startPrivatePostgres();
        sim = await startSimulator({ pingIntervalMs: 0 });
        const storageUrl = pg.url('restart');
        const logs = [new LogCapture(), new LogCapture()];
        for (const l of logs) bots.push(await startBotOnSimulator(sim, { storageUrl, logs: l }));
        const s = sim;
        expect((await s.client.as('bob').ask('ping', { group: 'ops' })).content).toBe('pong');

        pg.stop();
        // Every pooled connection of both replicas is cut: nothing may throw out of the pool.
        await new Promise((r) => setTimeout(r, 1_000));
        for (const bot of bots) {
          const ready = await bot.http.inject({ url: '/readyz' });
          expect(ready.statusCode).toBe(503);
          expect(JSON.stringify(ready.json())).toMatch(/store/);
        }
        // Said during the outage: a replica acknowledges a message only once it is stored, so
        // DingTalk keeps what could not be (no ACK), and nothing acknowledged is lost.
        const app = s.state.org.apps[0];
        const bob = s.state.user('bob');
        if (!app || !bob) throw new Error('default org');
        const said = s.client.cursor();
        const pushed = s.server.gateway.pushCallback(
          app.clientId,
          TOPIC_ROBOT,
          robotMessagePayload(s.state, {
            app,
            sender: bob,
            group: 'cid-ops',
            text: 'ping',
            msgId: 'msg-during-outage',
            mentions: [],
            webhookBase: s.url,
          }),
          3_000,
        );
        const ack = pushed === false ? undefined : await pushed;

        pg.start();
        const after = await s.client.as('carol').ask('ping', { group: 'ops', timeoutMs: 20_000 });
        expect(after.content).toBe('pong');
        for (const bot of bots) expect((await bot.http.inject({ url: '/readyz' })).statusCode).toBe(200);
        const pongs = () =>
          s.client.botMessages('ops').filter((m) => m.seq > said && m.content === 'pong').length;
        if (ack) await s.client.until(() => pongs() >= 2, 10_000, 'the answer to the acknowledged message');
        else expect(pongs()).toBe(1);
        expect(escaped).toEqual([]);
        // Each replica said the store went away, once, not once per pooled connection.
        for (const l of logs)
          expect(
            l.lines.filter((line) => line.includes('lost a connection to PostgreSQL')).length,
          ).toBeLessThanOrEqual(1);
      } finally {
        process.off('unhandledRejection', onEscape);
        process.off('uncaughtException', onEscape);
      }
    },
    90_000,
  );
});
