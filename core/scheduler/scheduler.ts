import cron, { type RunCoordinator, type ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';
import { token } from '../util/di-token.js';

export interface ScheduleOptions {
  /** IANA zone; defaults to the bot's `timezone`. */
  timezone?: string;
  /** Run now as well as on schedule. */
  runOnStart?: boolean;
}

export interface ScheduleHandle {
  name: string;
  stop(): void;
  nextRun(): Date | null;
}

/**
 * Cron schedules (node-cron), timezone-aware. A run never overlaps the previous one of
 * the same schedule; a failing run is logged and the schedule continues. Every schedule
 * an owner registers stops when the owner is disposed.
 */
export class Scheduler {
  private readonly tasks = new Map<
    string,
    { task: Pick<ScheduledTask, 'destroy' | 'getNextRun'>; owner: string; run: () => Promise<void> }
  >();

  constructor(
    private readonly log: Logger,
    private readonly defaultTimezone: string,
    /** Replicas sharing a store: each due run goes to one of them (`cluster/run-coordinator.ts`). */
    private readonly coordinator?: RunCoordinator,
  ) {}

  schedule(
    owner: string,
    name: string,
    expression: string,
    fn: () => unknown,
    options: ScheduleOptions = {},
  ): ScheduleHandle {
    const id = `${owner}:${name}`;
    if (this.tasks.has(id)) throw new Error(`schedule '${name}' is already registered by ${owner}`);
    if (!cron.validate(expression))
      throw new Error(`schedule '${name}': invalid cron expression '${expression}'`);
    const run = async () => {
      try {
        await fn();
      } catch (err) {
        this.log.error({ err, owner, schedule: name }, 'scheduled job failed');
      }
    };
    const task = cron.schedule(expression, run, {
      name: id,
      timezone: options.timezone ?? this.defaultTimezone,
      noOverlap: true,
      unref: true,
      suppressMissedWarning: true,
      ...(this.coordinator ? { distributed: true, runCoordinator: this.coordinator } : {}),
    });
    this.tasks.set(id, { task, owner, run });
    if (options.runOnStart) void run();
    return {
      name: id,
      stop: () => {
        void task.destroy();
        this.tasks.delete(id);
      },
      nextRun: () => task.getNextRun(),
    };
  }

  /**
   * Housekeeping every `intervalMs` (and once `firstAfterMs` after start), without a cron
   * expression: a plain timer. node-cron reads the clock through Intl, whose first use pages in
   * ICU's time zone data (~6 MB resident for the life of the process), and housekeeping that
   * only needs "every hour" should not cost an idle bot that. Runs never overlap; every
   * replica runs its own, so the work must be idempotent (pruning is).
   */
  every(
    owner: string,
    name: string,
    intervalMs: number,
    fn: () => unknown,
    firstAfterMs = 60_000,
  ): ScheduleHandle {
    const id = `${owner}:${name}`;
    if (this.tasks.has(id)) throw new Error(`schedule '${name}' is already registered by ${owner}`);
    let running: Promise<void> | undefined;
    let next = Date.now() + firstAfterMs;
    const run = (): Promise<void> => {
      if (running) return running;
      const current = (async () => {
        try {
          await fn();
        } catch (err) {
          this.log.error({ err, owner, schedule: name }, 'scheduled job failed');
        }
      })();
      // Cleared once settled, not in the job's own `finally`: a job that fails at once gets
      // there before `running` is even assigned.
      running = current;
      void current.then(() => {
        if (running === current) running = undefined;
      });
      return current;
    };
    const tick = () => {
      next = Date.now() + intervalMs;
      void run();
    };
    let interval: NodeJS.Timeout | undefined;
    const first = setTimeout(() => {
      tick();
      interval = setInterval(tick, intervalMs);
      interval.unref();
    }, firstAfterMs);
    first.unref();
    const task = {
      destroy: () => {
        clearTimeout(first);
        clearInterval(interval);
      },
      getNextRun: () => new Date(next),
    };
    this.tasks.set(id, { task, owner, run });
    return {
      name: id,
      stop: () => {
        task.destroy();
        this.tasks.delete(id);
      },
      nextRun: () => task.getNextRun(),
    };
  }

  /** Runs a schedule now, as if it were due (tests; `<owner>:<name>`). */
  async runNow(id: string): Promise<void> {
    const t = this.tasks.get(id);
    if (!t)
      throw new Error(`no schedule '${id}' (registered: ${[...this.tasks.keys()].join(', ') || 'none'})`);
    await t.run();
  }

  list(): Array<{ name: string; owner: string; next: Date | null }> {
    return [...this.tasks].map(([name, { task, owner }]) => ({ name, owner, next: task.getNextRun() }));
  }

  stopAll(): void {
    for (const { task } of this.tasks.values()) void task.destroy();
    this.tasks.clear();
  }
}

/** The DI token of the Scheduler. */
export const SchedulerToken = token<Scheduler>('Scheduler');
