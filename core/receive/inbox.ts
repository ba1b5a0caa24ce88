import { type Kysely, sql } from 'kysely';
import type { CoreTables } from '../storage/core-tables.js';
import type { Database } from '../storage/database.js';
import { token } from '../util/di-token.js';

export interface InboxEntry {
  id: string;
  kind: string;
  payload: unknown;
  /** Handling attempts that failed so far. */
  attempts: number;
}

/** Failed handlings of one message before it is dead-lettered (kept with its reason, not replayed). */
export const MAX_INBOUND_ATTEMPTS = 3;

/**
 * Inbound messages and events accepted from DingTalk. `accept` records one durably and
 * says whether it is new (DingTalk re-pushes, and a message can arrive on two connections);
 * `done` marks it handled; `unfinished` lists what a crash interrupted.
 */
export class Inbox {
  private readonly db: Kysely<CoreTables>;

  constructor(
    private readonly store: Database,
    private readonly now: () => number = Date.now,
  ) {
    this.db = store.db;
  }

  /** True when the id was not seen before (and is now recorded with its payload). */
  async accept(id: string, kind: string, payload: unknown): Promise<boolean> {
    // Every inbound message passes here: a raw statement, group-committed on SQLite.
    const r = await this.store.write(
      sql`insert into inbound_seen (id, kind, received_at, payload, done) values (${id}, ${kind}, ${this.now()}, ${JSON.stringify(payload)}, 0) on conflict (id) do nothing`.compile(
        this.db,
      ),
    );
    return r.numAffectedRows > 0;
  }

  async done(id: string): Promise<void> {
    await this.store.write(
      sql`update inbound_seen set done = 1, payload = null where id = ${id}`.compile(this.db),
    );
  }

  /**
   * Handling failed: counted, and dead-lettered (done = 2, payload kept with the reason) when
   * `dead` or after MAX_INBOUND_ATTEMPTS. Returns whether it is dead-lettered now.
   */
  async failed(id: string, reason: string, dead: boolean): Promise<boolean> {
    const r = await this.store.write(
      sql`update inbound_seen set attempts = attempts + 1, error = ${reason.slice(0, 2000)}, done = case when ${dead ? 1 : 0} = 1 or attempts + 1 >= ${MAX_INBOUND_ATTEMPTS} then 2 else done end where id = ${id} and done = 0 returning done`.compile(
        this.db,
      ),
    );
    return Number(r.rows[0]?.done) === 2;
  }

  /** How many accepted messages were dead-lettered (for `status`). */
  async deadLettered(): Promise<number> {
    const r = await this.db
      .selectFrom('inbound_seen')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('done', '=', 2)
      .executeTakeFirst();
    return Number(r?.n ?? 0);
  }

  async unfinished(limit = 1000): Promise<InboxEntry[]> {
    const rows = await this.db
      .selectFrom('inbound_seen')
      .select(['id', 'kind', 'payload', 'attempts'])
      .where('done', '=', 0)
      .orderBy('received_at')
      .limit(limit)
      .execute();
    return rows.map((r) => ({
      id: r.id,
      kind: r.kind,
      payload: r.payload ? JSON.parse(r.payload) : undefined,
      attempts: Number(r.attempts ?? 0),
    }));
  }

  /** Forgets ids older than the dedupe window (DingTalk re-pushes within minutes). */
  async prune(olderThanMs = 7 * 86_400_000): Promise<void> {
    await this.db
      .deleteFrom('inbound_seen')
      .where('done', '>=', 1)
      .where('received_at', '<', this.now() - olderThanMs)
      .execute();
  }
}

/** The DI token of the Inbox. */
export const InboxToken = token<Inbox>('Inbox');
