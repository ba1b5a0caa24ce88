import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Scheduler } from '../../../core/scheduler/scheduler.js';
import { createTestBot, type TestBot } from '../../../testing/index.js';

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('Scheduler.every (housekeeping without cron)', () => {
  it('runs once after the first delay, then every interval, never two runs at once', async () => {
    vi.useFakeTimers();
    const scheduler = new Scheduler(pino({ level: 'silent' }), 'UTC');
    let runs = 0;
    let release: () => void = () => undefined;
    scheduler.every(
      'core',
      'prune',
      1_000,
      () =>
        new Promise<void>((r) => {
          runs++;
          release = r;
        }),
      500,
    );
    await vi.advanceTimersByTimeAsync(499);
    expect(runs).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(runs).toBe(1);
    // Still running when the next one is due: not started twice.
    await vi.advanceTimersByTimeAsync(1_000);
    expect(runs).toBe(1);
    release();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(runs).toBe(2);
    scheduler.stopAll();
    release();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(runs).toBe(2);
  });

  it('logs a failing run and keeps going; runNow runs it on demand', async () => {
    vi.useFakeTimers();
    const lines: string[] = [];
    const log = pino({ level: 'error' }, { write: (l: string) => void lines.push(l) });
    const scheduler = new Scheduler(log, 'UTC');
    let calls = 0;
    scheduler.every('core', 'flaky', 1_000, () => {
      calls++;
      throw new Error('disk full');
    });
    await scheduler.runNow('core:flaky');
    await vi.advanceTimersByTimeAsync(60_000 + 2_000);
    expect(calls).toBe(4);
    expect(lines.filter((l) => l.includes('scheduled job failed') && l.includes('disk full'))).toHaveLength(
      4,
    );
    expect(() => scheduler.every('core', 'flaky', 1_000, () => undefined)).toThrow(/already registered/);
    scheduler.stopAll();
  });
});

describe('an idle bot', () => {
  let tb: TestBot | undefined;
  afterEach(async () => {
    await tb?.stop();
    tb = undefined;
  });

  it('starts without touching Intl date formatting (ICU data stays out of its memory)', async () => {
    const formats = vi.spyOn(Intl, 'DateTimeFormat');
    tb = await createTestBot({ config: 'timezone: Asia/Shanghai\n' });
    expect((await tb.ask('ping')).content).toBe('pong');
    expect(formats).not.toHaveBeenCalled();
  });
});
