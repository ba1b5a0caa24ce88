import { type Kysely, sql } from 'kysely';
import type { CoreTables } from '../storage/core-tables.js';

/**
 * Who may deliver a conversation's messages: one delivering process per conversation (a
 * lane), so messages keep their order. On SQLite there is one bot process (the replica
 * registry refuses a second), so every lane is this process's and nothing is written.
 */
export interface OutboxLanes {
  /** Several processes share the outbox: lanes are claimed, renewed, released and fenced. */
  readonly shared: boolean;
  /** Takes the lane when it is free (or already ours); its generation, else undefined. */
  claim(key: string): Promise<number | undefined>;
  /** Keeps the lanes this process holds. */
  renew(held: ReadonlyMap<string, number>): Promise<void>;
  /** Gives a lane up (drained, or the bot stops): another process may take it at once. */
  release(key: string, gen: number): Promise<void>;
  /** Conversations with messages due that no live process holds (a dead replica's, new ones). */
  orphans(limit: number): Promise<string[]>;
}

export class LocalLanes implements OutboxLanes {
  readonly shared = false;
  async claim(): Promise<number> {
    return 1;
  }
  async renew(): Promise<void> {}
  async release(): Promise<void> {}
  async orphans(): Promise<string[]> {
    return [];
  }
}

/**
 * Lanes in the `outbox_lane` table (PostgreSQL, several replicas): a claim is one upsert that
 * succeeds when the lane is free, expired, or already ours, and raises the generation; the
 * outbox marks a row sent only while its generation still holds the lane
 * (`Outbox.markSent`), so a replica that paused past its lease never marks anything.
 */
export class SqlLanes implements OutboxLanes {
  readonly shared = true;

  constructor(
    private readonly db: Kysely<CoreTables>,
    private readonly owner: string,
    private readonly leaseMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  async claim(key: string): Promise<number | undefined> {
    const now = this.now();
    const { rows } = await sql<{ gen: number }>`
      insert into outbox_lane (conversation_key, owner, lease_until, gen)
      values (${key}, ${this.owner}, ${now + this.leaseMs}, 1)
      on conflict (conversation_key) do update
        set owner = excluded.owner, lease_until = excluded.lease_until, gen = outbox_lane.gen + 1
        where outbox_lane.lease_until < ${now} or outbox_lane.owner = ${this.owner}
      returning gen`.execute(this.db);
    const gen = rows[0]?.gen;
    return gen === undefined ? undefined : Number(gen);
  }

  async renew(held: ReadonlyMap<string, number>): Promise<void> {
    if (!held.size) return;
    await this.db
      .updateTable('outbox_lane')
      .set({ lease_until: this.now() + this.leaseMs })
      .where('owner', '=', this.owner)
      .where('conversation_key', 'in', [...held.keys()])
      .execute();
  }

  async release(key: string, gen: number): Promise<void> {
    await this.db
      .deleteFrom('outbox_lane')
      .where('conversation_key', '=', key)
      .where('owner', '=', this.owner)
      .where('gen', '=', gen)
      .execute();
  }

  async orphans(limit: number): Promise<string[]> {
    const now = this.now();
    const rows = await this.db
      .selectFrom('outbox')
      .select('conversation_key')
      .distinct()
      .where('status', 'in', ['pending', 'sending'])
      .where('next_attempt_at', '<=', now)
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('outbox_lane')
              .select('gen')
              .whereRef('outbox_lane.conversation_key', '=', 'outbox.conversation_key')
              .where('outbox_lane.lease_until', '>=', now),
          ),
        ),
      )
      .limit(limit)
      .execute();
    return rows.map((r) => r.conversation_key);
  }
}
