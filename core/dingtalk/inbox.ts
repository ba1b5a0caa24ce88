import { type Kysely, sql } from 'kysely';
import type { Database } from '../storage/database.js';

export interface InboxEntry {
  id: string;
  kind: string;
  payload: unknown;
}

/**
 * Inbound messages and events accepted from DingTalk. `accept` records one durably and
 * says whether it is new (DingTalk re-pushes, and a message can arrive on two connections);
 * `done` marks it handled; `unfinished` lists what a crash interrupted.
 */
export class Inbox {
  private readonly db: Kysely<any>;

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

  async unfinished(limit = 1000): Promise<InboxEntry[]> {
    const rows = await this.db
      .selectFrom('inbound_seen')
      .select(['id', 'kind', 'payload'])
      .where('done', '=', 0)
      .orderBy('received_at')
      .limit(limit)
      .execute();
    return rows.map((r) => ({
      id: r.id,
      kind: r.kind,
      payload: r.payload ? JSON.parse(r.payload) : undefined,
    }));
  }

  /** Forgets ids older than the dedupe window (DingTalk re-pushes within minutes). */
  async prune(olderThanMs = 7 * 86_400_000): Promise<void> {
    await this.db
      .deleteFrom('inbound_seen')
      .where('done', '=', 1)
      .where('received_at', '<', this.now() - olderThanMs)
      .execute();
  }
}
