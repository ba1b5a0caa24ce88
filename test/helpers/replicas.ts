import { Writable } from 'node:stream';
import { afterEach } from 'vitest';
import type { Bot } from '../../core/runtime/bot.js';
import { type RunningSimulator, type SimulatorOptions, startSimulator } from '../../simulator/index.js';
import { startBotOnSimulator, type TestBotOptions } from '../../testing/index.js';
import { dropTestStorage, persistentTestStorageUrl } from './storage.js';

export interface Replicas {
  sim: RunningSimulator;
  bots: Bot[];
}

/**
 * Several bots on one simulator and one store, as replicas run (tests of the PostgreSQL
 * project); stopped, and their store dropped, after each test.
 */
export function useReplicas(): (
  n: number,
  bot?: Pick<TestBotOptions, 'config' | 'dingtalk'>,
  sim?: SimulatorOptions,
) => Promise<Replicas> {
  let running: Replicas | undefined;
  let url = '';
  afterEach(async () => {
    for (const b of running?.bots ?? []) await b.stop('test').catch(() => undefined);
    await running?.sim.stop();
    running = undefined;
    if (url) await dropTestStorage(url);
    url = '';
  });
  return async (n, bot = {}, sim = {}) => {
    const s = await startSimulator({ pingIntervalMs: 0, ...sim });
    url = persistentTestStorageUrl();
    running = { sim: s, bots: [] };
    for (let i = 0; i < n; i++)
      running.bots.push(await startBotOnSimulator(s, { ...bot, storageUrl: url, logs: quiet() }));
    return running;
  };
}

function quiet(): Writable {
  return new Writable({
    write(_chunk, _encoding, done) {
      done();
    },
  });
}
