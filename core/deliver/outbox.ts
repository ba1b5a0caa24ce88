import { type Kysely, type Selectable, sql } from 'kysely';
import type { Logger } from 'pino';
import type { Metrics } from '../observe/metrics.js';
import type { CoreTables } from '../storage/core-tables.js';
import type { Database } from '../storage/database.js';
import { backoffMs } from '../util/backoff.js';
import { token } from '../util/di-token.js';
import type { DingTalkApiError } from './openapi/api-error.js';
import { LocalLanes, type OutboxLanes } from './outbox-lanes.js';

export type OutboxStatus = 'pending' | 'sending' | 'sent' | 'dead';

export interface OutboxRow<P = unknown> {
  id: number;
  kind: string;
  conversationKey: string;
  payload: P;
  status: OutboxStatus;
  attempts: number;
  nextAttemptAt: number;
  lastError?: string;
  createdAt: number;
  cardId?: string;
}

/** When the store fails under delivery, how soon it is tried again (a restarting database). */
const STORE_RETRY_MS = 2_000;

/** Delivers one row; throws DingTalkApiError (or anything) on failure. */
export type Deliverer = (row: OutboxRow) => Promise<void>;

export interface OutboxOptions {
  /** Give up on retryable failures after this long (then dead-letter). */
  maxAgeMs?: number;
  /** Polling interval for due retries. */
  pollMs?: number;
  /** Conversations delivered in parallel (each in order). */
  concurrency?: number;
  /** First retry delay; doubles per attempt (default 500 ms, capped at 5 min; throttling at 4 s). */
  retryBaseMs?: number;
  /** Several replicas: how long a held lane stays ours without renewal (default 10 s). */
  leaseMs?: number;
  now?: () => number;
}

/**
 * The durable outbox. `enqueue` commits before it returns, so an accepted message survives
 * a crash; the worker delivers from in-memory queues (loaded from the store at start) in
 * order per conversation (a later message never overtakes an earlier one waiting for a
 * retry), retries throttling and transient failures with backoff, and dead-letters
 * permanent failures with the reason.
 *
 * A message a crash caught mid-delivery (accepted by DingTalk, not yet marked sent) is
 * delivered again: for interactive cards the stable outTrackId makes that harmless; a plain
 * robot message has no idempotency key at DingTalk, so in that window of one HTTP request it
 * may appear twice (counted in `dingops_outbox_takeovers_total` when a lane changes hands).
 *
 * Replicas on PostgreSQL share the table: a conversation is delivered by the one replica
 * holding its lane (`outbox-lanes.ts`), which renews it while it has work and releases it when
 * drained; rows queued by another replica are picked up before the lane is released, and
 * lanes nobody holds (a dead replica's, after its lease) are adopted by polling. A row is
 * marked sent only while its lane's generation is still ours.
 */
export class Outbox {
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;
  /** Conversations with a due message but no free lane yet. */
  private readonly waiting = new Set<string>();
  private readonly running = new Set<Promise<void>>();
  private readonly now: () => number;
  /** Rows to deliver, per conversation, oldest first (loaded at start, appended by enqueue). */
  private readonly queues = new Map<string, OutboxRow[]>();
  private readonly active = new Set<string>();
  deadCount = 0;
  lastDeadReason: string | undefined;
  pendingCount = 0;

  private readonly db: Kysely<CoreTables>;
  /** Lanes this process holds, with their generations (shared outbox only). */
  private readonly held = new Map<string, number>();
  private renewTimer: NodeJS.Timeout | undefined;
  private adopting: Promise<void> | undefined;
  private readonly claiming = new Map<string, Promise<void>>();
  private tidying = false;
  /** The last row done (sent or dead) per held lane: rows are done in id order. */
  private readonly doneUpTo = new Map<string, number>();
  /** Lanes taken from a replica that did not release them (it died or paused past its lease). */
  private readonly takenOver = new Set<string>();
  /** Rows delivered again after such a takeover: possibly twice at DingTalk. */
  redelivered = 0;

  constructor(
    private readonly store: Database,
    private readonly deliver: Deliverer,
    private readonly log: Logger,
    private readonly metrics?: Metrics,
    private readonly options: OutboxOptions = {},
    private readonly lanes: OutboxLanes = new LocalLanes(),
  ) {
    this.now = options.now ?? Date.now;
    this.db = store.db;
  }

  async start(): Promise<void> {
    this.stopped = false;
    if (this.lanes.shared) {
      // Lanes are adopted as they come due (now, and at every poll), a dead replica's included.
      await this.countDead();
      this.timer = setInterval(() => {
        this.kick();
        void this.adopt();
        void this.tidyHeld();
      }, this.options.pollMs ?? 500);
      this.timer.unref();
      const lease = this.options.leaseMs ?? 10_000;
      this.renewTimer = setInterval(
        () =>
          void this.lanes
            .renew(this.held)
            .catch((err) => this.log.warn({ err }, 'outbox: lease renewal failed')),
        Math.max(100, Math.floor(lease / 3)),
      );
      this.renewTimer.unref();
      await this.adopt();
      return;
    }
    // Everything not yet accepted by DingTalk, including rows a crash caught mid-delivery.
    const rows = await this.db
      .selectFrom('outbox')
      .selectAll()
      .where('status', 'in', ['pending', 'sending'])
      .orderBy('id')
      .execute();
    if (rows.length)
      this.log.info({ rows: rows.length }, 'outbox: delivering messages queued before the last stop');
    for (const r of rows) this.push(fromRow(r));
    await this.countDead();
    this.timer = setInterval(() => this.kick(), this.options.pollMs ?? 500);
    this.timer.unref();
    this.kick();
  }

  private async countDead(): Promise<void> {
    const dead = await this.db
      .selectFrom('outbox')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('status', '=', 'dead')
      .executeTakeFirst();
    this.deadCount = Number(dead?.n ?? 0);
  }

  /** Stops the worker after the current deliveries; what is queued stays for the next start. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.renewTimer) clearInterval(this.renewTimer);
    await this.adopting;
    await Promise.all([...this.running]);
    await Promise.allSettled([...this.claiming.values()]);
    // Held lanes are given up: another replica delivers what is left at once, not after a lease.
    for (const [key, gen] of this.held) await this.lanes.release(key, gen).catch(() => undefined);
    this.held.clear();
    this.lanesChanged();
  }

  /** Takes the lanes of due conversations nobody holds, and queues their rows. */
  private adopt(): Promise<void> {
    this.adopting ??= (async () => {
      try {
        for (const key of await this.lanes.orphans(50)) if (!this.stopped) await this.take(key);
      } catch (err) {
        this.log.warn({ err }, 'outbox: looking for undelivered conversations failed');
      } finally {
        this.adopting = undefined;
      }
    })();
    return this.adopting;
  }

  /**
   * Held lanes with nothing queued here and no drain running: the rows other replicas added
   * since are queued, or the lane is given up. A safety net: without it, a lane held with
   * nothing to wake it would hold those rows for as long as this replica lives.
   */
  private async tidyHeld(): Promise<void> {
    if (this.tidying) return;
    this.tidying = true;
    try {
      for (const [key, gen] of [...this.held]) {
        if (this.stopped || this.active.has(key) || this.queues.get(key)?.length) continue;
        if ((await this.loadLane(key)) > 0) {
          this.schedule(key);
          continue;
        }
        if (this.active.has(key) || this.queues.get(key)?.length || this.held.get(key) !== gen) continue;
        await this.lanes.release(key, gen).catch(() => undefined);
        if (this.held.get(key) !== gen) continue;
        this.held.delete(key);
        this.lanesChanged();
        this.doneUpTo.delete(key);
      }
    } catch (err) {
      this.log.warn({ err }, 'outbox: looking at held conversations failed');
    } finally {
      this.tidying = false;
    }
  }

  /** Claims a conversation's lane and queues its undelivered rows; false when another holds it. */
  private async take(key: string): Promise<boolean> {
    if (!this.held.has(key)) {
      // One claim per lane at a time: two at once would each raise the generation, and the
      // one remembered might not be the one that holds the lane.
      let claiming = this.claiming.get(key);
      if (!claiming) {
        claiming = this.lanes
          .claim(key)
          .then(async (claim) => {
            if (!claim) return;
            // Stopping: a lane taken now is given back, not left to its lease.
            if (this.stopped) return this.lanes.release(key, claim.gen);
            if (claim.takenOver) this.takenOver.add(key);
            this.held.set(key, claim.gen);
            this.lanesChanged();
          })
          .finally(() => this.claiming.delete(key));
        this.claiming.set(key, claiming);
      }
      await claiming;
    }
    if (!this.held.has(key)) {
      // Another replica holds the lane and reads every row from the store, ours included:
      // what is queued here is its to deliver (a running drain forgets it at its next row).
      if (!this.active.has(key)) this.forget(key);
      return false;
    }
    await this.loadLane(key);
    this.schedule(key);
    return true;
  }

  /**
   * Queues the rows of a held lane not queued yet (another replica may have added some).
   * Two loads may overlap (an enqueue and the end of a drain), and a row may be delivered
   * while one reads: what is queued and what is done are looked at after the read, and a
   * lane's rows are done in id order, so no row is queued twice.
   */
  private async loadLane(key: string): Promise<number> {
    const rows = await this.db
      .selectFrom('outbox')
      .selectAll()
      .where('conversation_key', '=', key)
      .where('status', 'in', ['pending', 'sending'])
      .where('id', '>', this.doneUpTo.get(key) ?? 0)
      .orderBy('id')
      .execute();
    const queued = new Set((this.queues.get(key) ?? []).map((r) => r.id));
    const done = this.doneUpTo.get(key) ?? 0;
    let added = 0;
    for (const r of rows)
      if (Number(r.id) > done && !queued.has(Number(r.id))) {
        this.push(fromRow(r));
        added++;
      }
    return added;
  }

  private push(row: OutboxRow): void {
    const q = this.queues.get(row.conversationKey) ?? [];
    q.push(row);
    this.queues.set(row.conversationKey, q);
    this.pendingCount++;
    this.metrics?.outboxDepth.set(this.pendingCount);
  }

  /**
   * Commits the message to the store (it survives a crash from here on), then queues it. With
   * a `dedupeKey` already queued (work done again after a crash or by another replica),
   * nothing new is queued: the id is the earlier row's.
   */
  async enqueue<P>(
    kind: string,
    conversationKey: string,
    payload: P,
    options: { cardId?: string; dedupeKey?: string } = {},
  ): Promise<number> {
    const now = this.now();
    const key = options.dedupeKey ? options.dedupeKey.slice(0, 300) : null;
    if (this.lanes.shared) {
      // Replicas queue into one conversation at once: the insert takes the conversation's
      // lock first, so its rows get their ids in the order they commit, and a lane that
      // reads them by id never delivers a later one first.
      const { rows } = await sql<{ id: number }>`
        with lane as (select pg_advisory_xact_lock(hashtext(${`dingops-outbox:${conversationKey}`})))
        insert into outbox (kind, conversation_key, payload, status, attempts, next_attempt_at, created_at, card_id, dedupe_key)
        select ${kind}, ${conversationKey}, ${JSON.stringify(payload)}, 'pending', 0, ${now}, ${now}, ${options.cardId ?? null}, ${key}
        from lane
        on conflict (dedupe_key) where dedupe_key is not null do nothing
        returning id`.execute(this.db);
      if (!rows[0] && key) return this.queuedAs(key);
      const id = Number(rows[0]?.id);
      // Queued in id order with whatever another replica queued before it (held or taken now).
      if (!this.stopped) await this.take(conversationKey);
      return id;
    }
    // Group-committed on SQLite: many messages queued in one turn cost one commit.
    const inserted = await this.store.write(
      sql`insert into outbox (kind, conversation_key, payload, status, attempts, next_attempt_at, created_at, card_id, dedupe_key) values (${kind}, ${conversationKey}, ${JSON.stringify(payload)}, 'pending', 0, ${now}, ${now}, ${options.cardId ?? null}, ${key}) on conflict (dedupe_key) where dedupe_key is not null do nothing returning id`.compile(
        this.db,
      ),
    );
    const row = inserted.rows[0] as { id: number } | undefined;
    if (!row && key) return this.queuedAs(key);
    const id = Number(row?.id);
    this.push({
      id,
      kind,
      conversationKey,
      payload,
      status: 'pending',
      attempts: 0,
      nextAttemptAt: now,
      createdAt: now,
      cardId: options.cardId,
    });
    this.schedule(conversationKey);
    return id;
  }

  /** The row queued earlier under an idempotency key. */
  private async queuedAs(key: string): Promise<number> {
    const row = await this.db
      .selectFrom('outbox')
      .select('id')
      .where('dedupe_key', '=', key)
      .executeTakeFirstOrThrow();
    return Number(row.id);
  }

  /**
   * Replaces the payload of a card's queued update (latest wins), or queues a new one.
   * A card that changes ten times while DingTalk throttles costs one call, not ten.
   */
  async enqueueLatest<P>(kind: string, conversationKey: string, cardId: string, payload: P): Promise<number> {
    const queued = (this.queues.get(conversationKey) ?? []).findLast(
      (r) => r.kind === kind && r.cardId === cardId,
    );
    // Only a row not being delivered right now may be replaced.
    if (queued && !(this.active.has(conversationKey) && this.queues.get(conversationKey)?.[0] === queued)) {
      await this.db
        .updateTable('outbox')
        .set({ payload: JSON.stringify(payload) })
        .where('id', '=', queued.id)
        .execute();
      queued.payload = payload;
      this.schedule(conversationKey);
      return queued.id;
    }
    return this.enqueue(kind, conversationKey, payload, { cardId });
  }

  /** Schedules every conversation with a due message (start-up, polling, after retries). */
  kick(): void {
    for (const key of this.queues.keys()) this.schedule(key);
  }

  /**
   * Gives a conversation a lane as soon as its oldest message is due, up to `concurrency`
   * lanes at once; the others wait for a free lane. A busy conversation never holds back
   * the rest, and each is delivered strictly in order by its one lane.
   */
  private schedule(key: string): void {
    if (this.stopped || this.active.has(key)) return;
    const head = this.queues.get(key)?.[0];
    if (!head || head.nextAttemptAt > this.now()) return;
    if (this.active.size >= (this.options.concurrency ?? 16)) {
      this.waiting.add(key);
      return;
    }
    this.waiting.delete(key);
    this.active.add(key);
    const lane = this.drainConversation(key)
      .catch((err) => {
        // The store failed under the lane (it went away mid-drain): nothing is lost, the rows
        // are still pending in it; the lane is tried again, and the poll keeps kicking.
        this.metrics?.errors.inc('outbox-store');
        this.log.error({ err, conversation: key }, 'outbox: the store failed while delivering; retrying');
        setTimeout(() => this.kick(), STORE_RETRY_MS).unref();
      })
      .finally(() => {
        this.active.delete(key);
        this.running.delete(lane);
        const next = this.waiting.values().next();
        if (!next.done) this.schedule(next.value);
      });
    this.running.add(lane);
  }

  /** Delivers one conversation's due messages in order; stops at a message waiting for a retry. */
  private async drainConversation(key: string): Promise<void> {
    const q = this.queues.get(key);
    if (!q) return;
    let delivered = 0;
    for (let row = q[0]; row && row.nextAttemptAt <= this.now() && !this.stopped; row = q[0]) {
      // Shared: only the lane's holder delivers (a queue left from a lane given up is not ours).
      if (this.lanes.shared && !this.held.has(key)) {
        this.forget(key);
        return;
      }
      const outcome = await this.attempt(row);
      if (outcome === 'lost') {
        this.held.delete(key);
        this.lanesChanged();
        this.forget(key);
        return;
      }
      if (outcome === 'retry') return;
      if (this.lanes.shared) this.doneUpTo.set(key, row.id);
      q.shift();
      // Fairness: a busy conversation gives its lane up now and then to waiting ones. (Only
      // with rows left: a drained one goes on below, to rows other replicas queued, or to
      // giving its lane up; returning here held the lane with nothing to wake it.)
      if (++delivered >= 8 && this.waiting.size && q.length) {
        this.waiting.add(key);
        return;
      }
    }
    if (q.length) return;
    const gen = this.held.get(key);
    if (gen !== undefined && !this.stopped) {
      // Rows another replica queued for this conversation while we delivered it: ours too.
      if ((await this.loadLane(key)) > 0) {
        this.waiting.add(key);
        return;
      }
      await this.lanes.release(key, gen).catch(() => undefined);
      this.held.delete(key);
      this.lanesChanged();
      this.doneUpTo.delete(key);
      // Queued here while the lane was being released: take it again for them.
      if (q.length) {
        void this.take(key).catch((err) => this.log.warn({ err }, 'outbox: taking a lane failed'));
        return;
      }
    }
    this.queues.delete(key);
  }

  /** Forgets what is queued for a lane this replica does not hold: its holder delivers it. */
  private forget(key: string): void {
    const q = this.queues.get(key) ?? [];
    this.pendingCount = Math.max(0, this.pendingCount - q.length);
    this.metrics?.outboxDepth.set(this.pendingCount);
    this.queues.delete(key);
    this.doneUpTo.delete(key);
  }

  /**
   * Delivers one row: `done` (sent or dead), `retry` (it waits for its next attempt), or
   * `lost` (another replica holds the lane now: this one stops, the other delivers).
   */
  private async attempt(row: OutboxRow): Promise<'done' | 'retry' | 'lost'> {
    try {
      if (this.takenOver.delete(row.conversationKey)) {
        // The first row of a lane taken from a replica that never released it: it may have
        // been mid-delivery there, so DingTalk may already have it (the documented duplicate).
        this.redelivered++;
        this.metrics?.errors.inc('outbox-redelivered');
        this.metrics?.outboxTakeovers.inc();
        this.log.warn(
          { id: row.id, conversation: row.conversationKey },
          'outbox: took a conversation over from a replica that stopped without giving it up; its first message may reach DingTalk twice',
        );
      }
      await this.deliver(row);
    } catch (err) {
      return this.failed(row, err);
    }
    // DingTalk has it: what may fail now is our record of that, which is retried (never the
    // send: a failed record must not look like a failed delivery and go out again).
    for (let attempt = 0; ; attempt++) {
      try {
        if (!(await this.markSent(row))) {
          this.log.warn({ id: row.id, conversation: row.conversationKey }, 'outbox: lane lost mid-delivery');
          return 'lost';
        }
        break;
      } catch (err) {
        if (this.stopped) throw err;
        if (attempt === 0)
          this.log.error(
            { err, id: row.id },
            'outbox: delivered, but the store could not record it; retrying the record, not the send',
          );
        await new Promise((r) => setTimeout(r, backoffMs(attempt, STORE_RETRY_MS / 4, 10_000)));
      }
    }
    this.settled();
    return 'done';
  }

  /**
   * A delivery failed: DingTalk refused it or could not be reached. Retried by its kind, with
   * backoff; a refusal, a programming error (its cause is in our code, not in DingTalk) or a
   * row too old is dead-lettered with the reason.
   */
  private async failed(row: OutboxRow, err: unknown): Promise<'done' | 'retry'> {
    const e = err as Partial<DingTalkApiError> & Error;
    const reason = e.message ?? String(err);
    const programming =
      err instanceof TypeError || err instanceof ReferenceError || err instanceof RangeError;
    if (programming) this.log.error({ err, id: row.id }, 'outbox: a programming error while delivering');
    const retryable = e.retryable ?? (e.kind === undefined && !programming);
    const attempts = row.attempts + 1;
    const tooOld = this.now() - row.createdAt > (this.options.maxAgeMs ?? 24 * 3_600_000);
    if ((retryable || e.kind === 'auth') && !tooOld) {
      const base = this.options.retryBaseMs ?? 500;
      const wait =
        e.kind === 'throttled'
          ? backoffMs(Math.min(attempts, 3), base, 8 * base)
          : backoffMs(attempts, base, e.kind === 'auth' ? 30 * 60_000 : 5 * 60_000);
      row.attempts = attempts;
      row.nextAttemptAt = this.now() + wait;
      row.lastError = reason;
      // Recorded when the store can; when it cannot, the row waits in memory all the same.
      await this.db
        .updateTable('outbox')
        .set({ attempts, next_attempt_at: row.nextAttemptAt, last_error: reason })
        .where('id', '=', row.id)
        .execute()
        .catch((storeErr) =>
          this.log.warn({ err: storeErr, id: row.id }, 'outbox: could not record a retry; retrying anyway'),
        );
      this.log.warn(
        { id: row.id, kind: e.kind ?? 'error', attempts, retryInMs: wait, reason },
        'delivery failed; will retry',
      );
      setTimeout(() => this.kick(), wait + 5).unref();
      return 'retry';
    }
    await this.db
      .updateTable('outbox')
      .set({ status: 'dead', attempts, last_error: reason })
      .where('id', '=', row.id)
      .execute();
    this.settled();
    this.deadCount++;
    this.lastDeadReason = reason;
    this.metrics?.errors.inc('outbox-dead');
    this.log.error(
      { id: row.id, kind: e.kind ?? 'error', reason, conversation: row.conversationKey },
      'message dead-lettered: it will not be retried',
    );
    return 'done';
  }

  /** Marks a row sent; shared, only while this replica still holds its lane (the fence). */
  private async markSent(row: OutboxRow): Promise<boolean> {
    const now = this.now();
    if (this.lanes.shared) {
      const gen = this.held.get(row.conversationKey);
      return gen !== undefined && (await this.lanes.markSent(row, gen, now));
    }
    // Raw statement on the hot path: the query builder costs more than SQLite here.
    await this.store.write(
      sql`update outbox set status = 'sent', sent_at = ${now}, attempts = ${row.attempts + 1}, last_error = null where id = ${row.id}`.compile(
        this.db,
      ),
    );
    return true;
  }

  private lanesChanged(): void {
    this.metrics?.outboxLanes.set(this.held.size);
  }

  private settled(): void {
    this.pendingCount = Math.max(0, this.pendingCount - 1);
    this.metrics?.outboxDepth.set(this.pendingCount);
  }

  /** Deletes delivered rows older than `olderThanMs` (dead letters stay for inspection). */
  async prune(olderThanMs = 24 * 3_600_000): Promise<number> {
    const r = await this.db
      .deleteFrom('outbox')
      .where('status', '=', 'sent')
      .where('sent_at', '<', this.now() - olderThanMs)
      .executeTakeFirst();
    return Number(r.numDeletedRows ?? 0);
  }
}

function fromRow(r: Selectable<CoreTables['outbox']>): OutboxRow {
  return {
    id: Number(r.id),
    kind: r.kind,

    conversationKey: r.conversation_key,
    payload: JSON.parse(r.payload) as unknown,
    status: r.status,
    attempts: Number(r.attempts),
    nextAttemptAt: Number(r.next_attempt_at),
    lastError: r.last_error ?? undefined,
    createdAt: Number(r.created_at),
    cardId: r.card_id ?? undefined,
  };
}

/** The DI token of the Outbox. */
export const OutboxToken = token<Outbox>('Outbox');
