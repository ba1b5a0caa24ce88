import type { Kysely } from 'kysely';
import type { Logger } from 'pino';

export type AuditOutcome = 'ok' | 'denied' | 'invalid' | 'error' | 'unknown' | 'cancelled' | 'pending';

export interface AuditEntry {
  at: number;
  kind: 'command' | 'action' | 'task' | 'system';
  actorId: string;
  actorNick?: string;
  conversationId?: string;
  conversationType?: string;
  /** Command path (`alerts silence add`) or action id (`alerts.ack`). */
  command: string;
  /** Arguments, with secrets already redacted. */
  args?: Record<string, unknown>;
  outcome: AuditOutcome;
  detail?: string;
  durationMs?: number;
  via?: string;
}

export interface AuditQuery {
  limit?: number;
  actorId?: string;
  command?: string;
  since?: number;
}

/**
 * Records every command and card action. Writes are batched (one multi-row insert per
 * flush) so auditing costs the hot path only an array push; `flush()` runs on a short
 * timer, when the buffer fills, and on shutdown. A failed flush keeps the entries and
 * retries; only past `maxBuffered` are the oldest dropped, and that is logged with a count.
 */
export class AuditLog {
  private buffer: AuditEntry[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  dropped = 0;

  constructor(
    private readonly db: Kysely<any>,
    private readonly log: Logger,
    private readonly options: { flushIntervalMs?: number; batchSize?: number; maxBuffered?: number } = {},
  ) {}

  start(): void {
    this.timer ??= setInterval(() => void this.flush(), this.options.flushIntervalMs ?? 250);
    this.timer.unref();
  }

  record(entry: AuditEntry): void {
    this.buffer.push(entry);
    const max = this.options.maxBuffered ?? 50_000;
    if (this.buffer.length > max) {
      const excess = this.buffer.length - max;
      this.buffer.splice(0, excess);
      this.dropped += excess;
      this.log.error(
        { dropped: excess, total: this.dropped },
        'audit buffer overflow: the store is not accepting writes',
      );
    }
    if (this.buffer.length >= (this.options.batchSize ?? 500) && !this.flushing) void this.flush();
  }

  get pending(): number {
    return this.buffer.length;
  }

  async flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    if (!this.buffer.length) return;
    this.flushing = this.writeAll().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private async writeAll(): Promise<void> {
    while (this.buffer.length) {
      const batch = this.buffer.slice(0, this.options.batchSize ?? 500);
      try {
        await this.db.insertInto('audit_log').values(batch.map(toRow)).execute();
        this.buffer.splice(0, batch.length);
      } catch (err) {
        this.log.error({ err, pending: this.buffer.length }, 'audit write failed; will retry');
        return;
      }
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  async query(q: AuditQuery = {}): Promise<AuditEntry[]> {
    await this.flush();
    let query = this.db
      .selectFrom('audit_log')
      .selectAll()
      .orderBy('at', 'desc')
      .orderBy('id', 'desc')
      .limit(Math.min(q.limit ?? 20, 500));
    if (q.actorId) query = query.where('actor_id', '=', q.actorId);
    if (q.command) query = query.where('command', '=', q.command);
    if (q.since) query = query.where('at', '>=', q.since);
    const rows = await query.execute();
    return rows.map(fromRow);
  }
}

function toRow(e: AuditEntry) {
  return {
    at: e.at,
    kind: e.kind,
    actor_id: e.actorId,
    actor_nick: e.actorNick ?? null,
    conversation_id: e.conversationId ?? null,
    conversation_type: e.conversationType ?? null,
    command: e.command,
    args: e.args ? JSON.stringify(e.args) : null,
    outcome: e.outcome,
    detail: e.detail ?? null,
    duration_ms: e.durationMs ?? null,
    via: e.via ?? null,
  };
}

function fromRow(r: Record<string, any>): AuditEntry {
  return {
    at: Number(r.at),
    kind: r.kind,
    actorId: r.actor_id,
    actorNick: r.actor_nick ?? undefined,
    conversationId: r.conversation_id ?? undefined,
    conversationType: r.conversation_type ?? undefined,
    command: r.command,
    args: r.args ? JSON.parse(r.args) : undefined,
    outcome: r.outcome,
    detail: r.detail ?? undefined,
    durationMs: r.duration_ms == null ? undefined : Number(r.duration_ms),
    via: r.via ?? undefined,
  };
}
