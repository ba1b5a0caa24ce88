import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { SqlRunCoordinator } from '../../../core/cluster/run-coordinator.js';
import { Scheduler } from '../../../core/scheduler/scheduler.js';
import { useMigratedStore } from '../../helpers/storage.js';

const store = useMigratedStore();

describe('schedules across replicas', () => {
  it('gives each due run to one replica', async () => {
    const a = new SqlRunCoordinator(store().db, 'replica-a');
    const b = new SqlRunCoordinator(store().db, 'replica-b');
    const key = 'core:prune:2026-12-01T17:00:00.000Z';
    expect(await a.shouldRun(key, 1000)).toBe(true);
    expect(await b.shouldRun(key, 1000)).toBe(false);
    expect(await a.shouldRun(key, 1000)).toBe(false);
    expect(await b.shouldRun('core:prune:2026-12-01T18:00:00.000Z', 1000)).toBe(true);
  });

  it('runs a schedule registered on two replicas once per due time', async () => {
    const log = pino({ level: 'silent' });
    const runs: Array<{ replica: string; second: number }> = [];
    const schedulers = ['a', 'b'].map((replica) => {
      const s = new Scheduler(log, 'UTC', new SqlRunCoordinator(store().db, replica));
      s.schedule('core', 'tick', '* * * * * *', () => {
        runs.push({ replica, second: Math.floor(Date.now() / 1000) });
      });
      return s;
    });
    await new Promise((r) => setTimeout(r, 3_300));
    for (const s of schedulers) s.stopAll();
    const seconds = runs.map((r) => r.second);
    // About one run a second, and never two in one second.
    expect(runs.length).toBeGreaterThanOrEqual(2);
    expect(new Set(seconds).size).toBe(seconds.length);
  });
});
