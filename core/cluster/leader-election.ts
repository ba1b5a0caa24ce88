import { type Kysely, sql } from 'kysely';
import type { Logger } from 'pino';
import type { CoreTables } from '../storage/core-tables.js';

/**
 * One leader among the replicas for a job only one may do (holding the Stream connection in
 * `dingtalk.stream.connections: leader`): a PostgreSQL advisory lock held on a connection of
 * its own. The lock goes with the connection, so when the leader dies the next replica that
 * tries (every `retryMs`) takes over within seconds. On SQLite there is one process: it leads.
 */
export class LeaderElection {
  private stopped = true;
  private leading = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  constructor(
    private readonly db: Kysely<CoreTables>,
    private readonly dialect: 'sqlite' | 'postgres',
    private readonly key: string,
    private readonly log: Logger,
    private readonly retryMs = 2_000,
  ) {}

  get isLeader(): boolean {
    return this.leading;
  }

  /** Campaigns until stopped: `elected` when this replica takes the lead, `deposed` when it loses it. */
  start(elected: () => Promise<void>, deposed: () => Promise<void>): void {
    this.stopped = false;
    if (this.dialect === 'sqlite') {
      this.leading = true;
      this.loop = elected();
      return;
    }
    this.loop = (async () => {
      while (!this.stopped) {
        try {
          await this.db.connection().execute(async (conn) => {
            const { rows } = await sql<{
              ok: boolean;
            }>`select pg_try_advisory_lock(hashtext(${this.key})) as ok`.execute(conn);
            if (!rows[0]?.ok) return;
            this.leading = true;
            this.log.info({ role: this.key }, 'this replica leads');
            try {
              await elected();
              // Holding the lock is holding the connection: use it, so a dead one is noticed.
              while (!this.stopped) {
                await this.sleep();
                await sql`select 1`.execute(conn);
              }
            } finally {
              this.leading = false;
              await deposed().catch((err) => this.log.error({ err }, 'stepping down failed'));
              await sql`select pg_advisory_unlock(hashtext(${this.key}))`
                .execute(conn)
                .catch(() => undefined);
            }
          });
        } catch (err) {
          this.log.warn({ err, role: this.key }, 'leader election: lost the database connection');
        }
        if (!this.stopped) await this.sleep();
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
  }

  private sleep(): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, this.retryMs);
      t.unref();
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }
}
