import { type Kysely, type Selectable, sql } from 'kysely';
import type { Logger } from 'pino';
import type { Metrics } from '../observe/metrics.js';
import type { CoreTables } from '../storage/core-tables.js';
import type { Database } from '../storage/database.js';
import { backoffMs } from '../util/backoff.js';
import { token } from '../util/di-token.js';
import type { DingTalkApiError } from './openapi/api-error.js';

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
 * delivered again at start: for interactive cards the stable outTrackId makes that harmless;
 * a plain robot message has no idempotency key at DingTalk, so in that window of one HTTP
 * request it may appear twice. One bot process delivers at a time: replicas sharing a
 * PostgreSQL store each deliver what they queued (and what is pending when they start).
 */
export class Outbox {
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;
  /** Conversations with a due message but no free lane yet. */
  private readonly waiting = new Set<string>();
  private readonly lanes = new Set<Promise<void>>();
  private readonly now: () => number;
  /** Rows to deliver, per conversation, oldest first (loaded at start, appended by enqueue). */
  private readonly queues = new Map<string, OutboxRow[]>();
  private readonly active = new Set<string>();
  deadCount = 0;
  lastDeadReason: string | undefined;
  pendingCount = 0;

  private readonly db: Kysely<CoreTables>;

  constructor(
    private readonly store: Database,
    private readonly deliver: Deliverer,
    private readonly log: Logger,
    private readonly metrics?: Metrics,
    private readonly options: OutboxOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.db = store.db;
  }

  async start(): Promise<void> {
    this.stopped = false;
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
    const dead = await this.db
      .selectFrom('outbox')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('status', '=', 'dead')
      .executeTakeFirst();
    this.deadCount = Number(dead?.n ?? 0);
    this.timer = setInterval(() => this.kick(), this.options.pollMs ?? 500);
    this.timer.unref();
    this.kick();
  }

  /** Stops the worker after the current deliveries; what is queued stays for the next start. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await Promise.all([...this.lanes]);
  }

  private push(row: OutboxRow): void {
    const q = this.queues.get(row.conversationKey) ?? [];
    q.push(row);
    this.queues.set(row.conversationKey, q);
    this.pendingCount++;
    this.metrics?.outboxDepth.set(this.pendingCount);
  }

  /** Commits the message to the store (it survives a crash from here on), then queues it. */
  async enqueue<P>(
    kind: string,
    conversationKey: string,
    payload: P,
    options: { cardId?: string } = {},
  ): Promise<number> {
    const now = this.now();
    // Group-committed on SQLite: many messages queued in one turn cost one commit.
    const inserted = await this.store.write(
      sql`insert into outbox (kind, conversation_key, payload, status, attempts, next_attempt_at, created_at, card_id) values (${kind}, ${conversationKey}, ${JSON.stringify(payload)}, 'pending', 0, ${now}, ${now}, ${options.cardId ?? null}) returning id`.compile(
        this.db,
      ),
    );
    const row = inserted.rows[0] as { id: number };
    const id = Number(row.id);
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
    const lane = this.drainConversation(key).finally(() => {
      this.active.delete(key);
      this.lanes.delete(lane);
      const next = this.waiting.values().next();
      if (!next.done) this.schedule(next.value);
    });
    this.lanes.add(lane);
  }

  /** Delivers one conversation's due messages in order; stops at a message waiting for a retry. */
  private async drainConversation(key: string): Promise<void> {
    const q = this.queues.get(key);
    if (!q) return;
    let delivered = 0;
    for (let row = q[0]; row && row.nextAttemptAt <= this.now() && !this.stopped; row = q[0]) {
      if (!(await this.attempt(row))) return;
      q.shift();
      // Fairness: a busy conversation gives its lane up now and then to waiting ones.
      if (++delivered >= 8 && this.waiting.size) {
        if (q.length) this.waiting.add(key);
        return;
      }
    }
    if (!q.length) this.queues.delete(key);
  }

  /** Delivers one row; true when it is done (sent or dead), false when it waits for a retry. */
  private async attempt(row: OutboxRow): Promise<boolean> {
    try {
      await this.deliver(row);
      // Raw statement on the hot path: the query builder costs more than SQLite here.
      await this.store.write(
        sql`update outbox set status = 'sent', sent_at = ${this.now()}, attempts = ${row.attempts + 1}, last_error = null where id = ${row.id}`.compile(
          this.db,
        ),
      );
      this.settled();
      return true;
    } catch (err) {
      const e = err as Partial<DingTalkApiError> & Error;
      const reason = e.message ?? String(err);
      const retryable = e.retryable ?? e.kind === undefined;
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
        await this.db
          .updateTable('outbox')
          .set({ attempts, next_attempt_at: row.nextAttemptAt, last_error: reason })
          .where('id', '=', row.id)
          .execute();
        this.log.warn(
          { id: row.id, kind: e.kind ?? 'error', attempts, retryInMs: wait, reason },
          'delivery failed; will retry',
        );
        setTimeout(() => this.kick(), wait + 5).unref();
        return false;
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
      return true;
    }
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
