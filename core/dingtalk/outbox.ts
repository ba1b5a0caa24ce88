import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Metrics } from '../http/metrics.js';
import type { DingTalkApiError } from './api-error.js';
import { backoffMs } from './backoff.js';

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
 * a crash; the worker delivers in order per conversation (a later message never overtakes
 * an earlier one that is waiting for a retry), retries throttling and transient failures
 * with backoff, and dead-letters permanent failures with the reason.
 *
 * A row caught mid-delivery by a crash (`sending` at start-up) is delivered again: for
 * interactive cards the stable outTrackId makes that harmless; a plain robot message has no
 * idempotency key at DingTalk, so in that one window it may appear twice.
 */
export class Outbox {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = true;
  private readonly now: () => number;
  private readonly active = new Set<string>();
  deadCount = 0;
  lastDeadReason: string | undefined;
  pendingCount = 0;

  constructor(
    private readonly db: Kysely<any>,
    private readonly deliver: Deliverer,
    private readonly log: Logger,
    private readonly metrics?: Metrics,
    private readonly options: OutboxOptions = {},
  ) {
    this.now = options.now ?? Date.now;
  }

  async start(): Promise<void> {
    this.stopped = false;
    const reset = await this.db
      .updateTable('outbox')
      .set({ status: 'pending' })
      .where('status', '=', 'sending')
      .executeTakeFirst();
    const n = Number(reset.numUpdatedRows ?? 0);
    if (n)
      this.log.warn({ rows: n }, 'outbox rows were mid-delivery at the last stop; delivering them again');
    await this.refreshCounts();
    this.timer = setInterval(() => this.kick(), this.options.pollMs ?? 500);
    this.timer.unref();
    this.kick();
  }

  /** Stops the worker after the current deliveries; what is queued stays for the next start. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  /** Waits until nothing due is left (deliveries done or waiting for a later retry), up to a deadline. */
  async drain(deadlineMs = 5_000): Promise<void> {
    const end = Date.now() + deadlineMs;
    while (Date.now() < end) {
      await this.running;
      const due = await this.db
        .selectFrom('outbox')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('status', 'in', ['pending', 'sending'])
        .where('next_attempt_at', '<=', this.now())
        .executeTakeFirstOrThrow();
      if (Number(due.n) === 0 && !this.running) return;
      this.kick();
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async enqueue<P>(
    kind: string,
    conversationKey: string,
    payload: P,
    options: { cardId?: string } = {},
  ): Promise<number> {
    const now = this.now();
    const row = await this.db
      .insertInto('outbox')
      .values({
        kind,
        conversation_key: conversationKey,
        payload: JSON.stringify(payload),
        status: 'pending',
        attempts: 0,
        next_attempt_at: now,
        created_at: now,
        card_id: options.cardId ?? null,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    this.pendingCount++;
    this.metrics?.outboxDepth.set(this.pendingCount);
    this.kick();
    return Number(row.id);
  }

  /**
   * Replaces the payload of a card's queued update (latest wins), or queues a new one.
   * A card that changes ten times while DingTalk throttles costs one call, not ten.
   */
  async enqueueLatest<P>(kind: string, conversationKey: string, cardId: string, payload: P): Promise<number> {
    const queued = await this.db
      .selectFrom('outbox')
      .select('id')
      .where('card_id', '=', cardId)
      .where('kind', '=', kind)
      .where('status', '=', 'pending')
      .orderBy('id', 'desc')
      .executeTakeFirst();
    if (queued) {
      await this.db
        .updateTable('outbox')
        .set({ payload: JSON.stringify(payload) })
        .where('id', '=', queued.id)
        .where('status', '=', 'pending')
        .execute();
      this.kick();
      return Number(queued.id);
    }
    return this.enqueue(kind, conversationKey, payload, { cardId });
  }

  /** Starts a delivery pass now (or right after the current one). */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.pass().finally(() => {
      this.running = undefined;
      if (this.again && !this.stopped) {
        this.again = false;
        this.kick();
      }
    });
  }

  private async pass(): Promise<void> {
    const rows = await this.db
      .selectFrom('outbox')
      .selectAll()
      .where('status', '=', 'pending')
      .orderBy('id')
      .limit(500)
      .execute()
      .catch((err) => {
        this.log.error({ err }, 'outbox read failed');
        return [];
      });
    // Per conversation: the oldest pending row goes first; if it is not due, the rest wait.
    const byKey = new Map<string, OutboxRow[]>();
    const blocked = new Set<string>();
    const now = this.now();
    for (const r of rows.map(fromRow)) {
      if (blocked.has(r.conversationKey) || this.active.has(r.conversationKey)) continue;
      if (r.nextAttemptAt > now) {
        blocked.add(r.conversationKey);
        continue;
      }
      const list = byKey.get(r.conversationKey) ?? [];
      list.push(r);
      byKey.set(r.conversationKey, list);
    }
    const keys = [...byKey.keys()];
    const concurrency = this.options.concurrency ?? 8;
    let next = 0;
    const lane = async () => {
      while (next < keys.length && !this.stopped) {
        const key = keys[next++]!;
        this.active.add(key);
        try {
          for (const row of byKey.get(key)!) {
            if (this.stopped) break;
            if (!(await this.attempt(row))) break; // keep order: stop this conversation at a failure
          }
        } finally {
          this.active.delete(key);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, keys.length) }, lane));
    await this.refreshCounts();
  }

  /** Delivers one row; true when it is done (sent or dead), false when it waits for a retry. */
  private async attempt(row: OutboxRow): Promise<boolean> {
    await this.db.updateTable('outbox').set({ status: 'sending' }).where('id', '=', row.id).execute();
    try {
      await this.deliver(row);
      await this.db
        .updateTable('outbox')
        .set({ status: 'sent', sent_at: this.now(), attempts: row.attempts + 1, last_error: null })
        .where('id', '=', row.id)
        .execute();
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
        await this.db
          .updateTable('outbox')
          .set({ status: 'pending', attempts, next_attempt_at: this.now() + wait, last_error: reason })
          .where('id', '=', row.id)
          .execute();
        this.log.warn(
          { id: row.id, kind: e.kind ?? 'error', attempts, retryInMs: wait, reason },
          'delivery failed; will retry',
        );
        return false;
      }
      await this.db
        .updateTable('outbox')
        .set({ status: 'dead', attempts, last_error: reason })
        .where('id', '=', row.id)
        .execute();
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

  private async refreshCounts(): Promise<void> {
    const rows = await this.db
      .selectFrom('outbox')
      .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
      .where('status', 'in', ['pending', 'sending', 'dead'])
      .groupBy('status')
      .execute()
      .catch(() => []);
    const count = (s: string) => Number(rows.find((r) => r.status === s)?.n ?? 0);
    this.pendingCount = count('pending') + count('sending');
    this.deadCount = count('dead');
    this.metrics?.outboxDepth.set(this.pendingCount);
  }

  async dead(limit = 20): Promise<OutboxRow[]> {
    const rows = await this.db
      .selectFrom('outbox')
      .selectAll()
      .where('status', '=', 'dead')
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
    return rows.map(fromRow);
  }
}

function fromRow(r: Record<string, any>): OutboxRow {
  return {
    id: Number(r.id),
    kind: r.kind,
    conversationKey: r.conversation_key,
    payload: JSON.parse(r.payload),
    status: r.status,
    attempts: Number(r.attempts),
    nextAttemptAt: Number(r.next_attempt_at),
    lastError: r.last_error ?? undefined,
    createdAt: Number(r.created_at),
    cardId: r.card_id ?? undefined,
  };
}
