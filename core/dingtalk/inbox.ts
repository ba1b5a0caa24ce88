import type { Kysely } from 'kysely';

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
  constructor(
    private readonly db: Kysely<any>,
    private readonly now: () => number = Date.now,
  ) {}

  /** True when the id was not seen before (and is now recorded with its payload). */
  async accept(id: string, kind: string, payload: unknown): Promise<boolean> {
    const r = await this.db
      .insertInto('inbound_seen')
      .values({ id, kind, received_at: this.now(), payload: JSON.stringify(payload), done: 0 })
      .onConflict((oc) => oc.column('id').doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async done(id: string): Promise<void> {
    await this.db.updateTable('inbound_seen').set({ done: 1, payload: null }).where('id', '=', id).execute();
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
