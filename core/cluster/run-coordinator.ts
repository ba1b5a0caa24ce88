import type { Kysely } from 'kysely';
import type { RunCoordinator } from 'node-cron';
import type { CoreTables } from '../storage/core-tables.js';

/**
 * Makes each cron run happen once across replicas (node-cron's `distributed` tasks ask it):
 * every replica's timer fires at the due time, and the one whose claim of
 * `<schedule>:<due time>` inserts first runs it. The others skip that run, and run the next
 * one as readily, so a dead replica costs no failover time. A run cut short by its replica
 * dying is not run again by another (the jobs are idempotent and run again at the next time).
 */
export class SqlRunCoordinator implements RunCoordinator {
  constructor(
    private readonly db: Kysely<CoreTables>,
    private readonly replica: string,
    private readonly now: () => number = Date.now,
  ) {}

  async shouldRun(key: string, ttlMs: number): Promise<boolean> {
    const now = this.now();
    const r = await this.db
      .insertInto('schedule_claim')
      .values({ key: key.slice(0, 300), replica: this.replica, expires_at: now + Math.max(ttlMs, 60_000) })
      .onConflict((oc) => oc.column('key').doNothing())
      .executeTakeFirst();
    // Old claims go now and then (cheap: the table holds a few runs per schedule).
    if (Math.random() < 0.05)
      await this.db.deleteFrom('schedule_claim').where('expires_at', '<', now).execute();
    return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
  }
}
