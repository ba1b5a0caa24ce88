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
    { task: ScheduledTask; owner: string; run: () => Promise<void> }
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
