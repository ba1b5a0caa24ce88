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
  /**
   * Takes the lane when it is free (or already ours): its generation, and whether it was
   * taken from another process that never released it; undefined when another holds it.
   */
  claim(key: string): Promise<LaneClaim | undefined>;
  /** Keeps the lanes this process holds. */
  renew(held: ReadonlyMap<string, number>): Promise<void>;
  /** Gives a lane up (drained, or the bot stops): another process may take it at once. */
  release(key: string, gen: number): Promise<void>;
  /** Conversations with messages due that no live process holds (a dead replica's, new ones). */
  orphans(limit: number): Promise<string[]>;
  /**
   * Marks a row sent while this process still holds its lane at `gen` (the fence: a replica
   * that lost its lease marks nothing); false when it does not.
   */
  markSent(
    row: { id: number; conversationKey: string; attempts: number },
    gen: number,
    now: number,
  ): Promise<boolean>;
}

export interface LaneClaim {
  gen: number;
  /** The lane's last holder never released it (it died, or paused past its lease). */
  takenOver: boolean;
}

export class LocalLanes implements OutboxLanes {
  readonly shared = false;
  async claim(): Promise<LaneClaim> {
    return { gen: 1, takenOver: false };
  }
  async renew(): Promise<void> {}
  async release(): Promise<void> {}
  async orphans(): Promise<string[]> {
    return [];
  }
  /** Never called: the outbox marks rows itself on the single-process path. */
  async markSent(): Promise<boolean> {
    return true;
  }
}

/**
 * Lanes in the `outbox_lane` table (PostgreSQL, several replicas): a claim is one upsert that
 * succeeds when the lane is free, expired, or already ours, and raises the generation; the
 * outbox marks a row sent only while its owner and generation still hold the lane
 * (`markSent`), so a replica that paused past its lease never marks anything. A released
 * lane's row is deleted and the next claim starts at generation 1 again: the owner in the
 * fence is what tells two holders of "generation 1" apart.
 */
export class SqlLanes implements OutboxLanes {
  readonly shared = true;

  constructor(
    private readonly db: Kysely<CoreTables>,
    private readonly owner: string,
    private readonly leaseMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  async claim(key: string): Promise<LaneClaim | undefined> {
    const now = this.now();
    // `previous` reads the row as it was before this statement: a released lane has none.
    const { rows } = await sql<{ gen: number; previous: string | null }>`
      with previous as (select owner from outbox_lane where conversation_key = ${key})
      insert into outbox_lane (conversation_key, owner, lease_until, gen)
      values (${key}, ${this.owner}, ${now + this.leaseMs}, 1)
      on conflict (conversation_key) do update
        set owner = excluded.owner, lease_until = excluded.lease_until, gen = outbox_lane.gen + 1
        where outbox_lane.lease_until < ${now} or outbox_lane.owner = ${this.owner}
      returning gen, (select owner from previous) as previous`.execute(this.db);
    const row = rows[0];
    if (!row) return undefined;
    return { gen: Number(row.gen), takenOver: row.previous !== null && row.previous !== this.owner };
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

  async markSent(
    row: { id: number; conversationKey: string; attempts: number },
    gen: number,
    now: number,
  ): Promise<boolean> {
    const r = await this.db
      .updateTable('outbox')
      .set({ status: 'sent', sent_at: now, attempts: row.attempts + 1, last_error: null })
      .where('id', '=', row.id)
      .where(({ exists, selectFrom }) =>
        exists(
          selectFrom('outbox_lane')
            .select('gen')
            .where('conversation_key', '=', row.conversationKey)
            .where('owner', '=', this.owner)
            .where('gen', '=', gen),
        ),
      )
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }
}
