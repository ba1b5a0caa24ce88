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

/** This process among the replicas sharing a PostgreSQL store. */
export interface InboxReplica {
  id: string;
  /** A replica whose heartbeat is older than this is dead: what it accepted is adopted. */
  staleMs: number;
}

/**
 * Inbound messages and events accepted from DingTalk. `accept` records one durably and
 * says whether it is new (DingTalk re-pushes, and a message can arrive on two connections,
 * on any replica: the id is unique cluster-wide); `done` marks it handled; `unfinished` lists
 * what a crash interrupted. Replicas on PostgreSQL record who accepted each message, and
 * `unfinished` hands out only those of replicas that died or left, each to one replica.
 */
export class Inbox {
  private readonly db: Kysely<CoreTables>;
  /** Several replicas share the inbox (PostgreSQL). */
  readonly shared: boolean;

  constructor(
    private readonly store: Database,
    private readonly now: () => number = Date.now,
    private readonly replica?: InboxReplica,
  ) {
    this.db = store.db;
    this.shared = store.dialect === 'postgres' && replica !== undefined;
  }

  /** True when the id was not seen before (and is now recorded with its payload). */
  async accept(id: string, kind: string, payload: unknown): Promise<boolean> {
    if (this.shared) {
      const r =
        await sql`insert into inbound_seen (id, kind, received_at, payload, done, replica) values (${id}, ${kind}, ${this.now()}, ${JSON.stringify(payload)}, 0, ${this.replica?.id}) on conflict (id) do nothing`.execute(
          this.db,
        );
      return Number(r.numAffectedRows ?? 0) > 0;
    }
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

  /**
   * What was accepted and not handled: on one process, everything (a crash interrupted it);
   * shared, what replicas that died or left accepted (and a previous version's, once it had
   * time to handle them), taken for this replica in one statement so no two replicas get
   * the same message.
   */
  async unfinished(limit = 1000): Promise<InboxEntry[]> {
    if (this.shared && this.replica) return this.adopt(this.replica, limit);
    const rows = await this.db
      .selectFrom('inbound_seen')
      .select(['id', 'kind', 'payload', 'attempts'])
      .where('done', '=', 0)
      .orderBy('received_at')
      .limit(limit)
      .execute();
    return rows.map(toEntry);
  }

  private async adopt(me: InboxReplica, limit: number): Promise<InboxEntry[]> {
    const stale = this.now() - me.staleMs;
    const { rows } = await sql<{
      id: string;
      kind: string;
      payload: string | null;
      attempts: number;
      received_at: number;
    }>`
      update inbound_seen set replica = ${me.id}
      where id in (
        select s.id from inbound_seen s
        where s.done = 0
          and (s.replica is distinct from ${me.id})
          and (case when s.replica is null then s.received_at < ${stale}
               else not exists (select 1 from dingops_replica r where r.id = s.replica and r.heartbeat_at > ${stale}) end)
        order by s.received_at
        limit ${limit}
        for update skip locked)
      returning id, kind, payload, attempts, received_at`.execute(this.db);
    return rows.sort((a, b) => Number(a.received_at) - Number(b.received_at)).map(toEntry);
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

function toEntry(r: {
  id: string;
  kind: string;
  payload: string | null;
  attempts: number | null;
}): InboxEntry {
  return {
    id: r.id,
    kind: r.kind,
    payload: r.payload ? JSON.parse(r.payload) : undefined,
    attempts: Number(r.attempts ?? 0),
  };
}

/** The DI token of the Inbox. */
export const InboxToken = token<Inbox>('Inbox');
