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

/** How many segments a query reads at most (each holds up to one flush batch). */
const MAX_SEGMENTS_SCANNED = 2000;

/**
 * Records every command and card action. The hot path is an array push; a short timer
 * (or a full buffer, or shutdown) writes the buffer as one segment row: one insert per
 * batch however many entries it holds, the same on SQLite and PostgreSQL. A failed write
 * keeps the entries and retries; only past `maxBuffered` are the oldest dropped, and that
 * is logged with a count.
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
    if (this.buffer.length >= (this.options.batchSize ?? 2000) && !this.flushing) void this.flush();
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
      const batch = this.buffer.slice(0, this.options.batchSize ?? 2000);
      try {
        await this.db.insertInto('audit_segment').values(segmentRow(batch)).execute();
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

  /** Newest first. */
  async query(q: AuditQuery = {}): Promise<AuditEntry[]> {
    await this.flush();
    const limit = Math.min(q.limit ?? 20, 500);
    const out: AuditEntry[] = [];
    // Page through segments newest first (keyset on id), stopping once enough entries are found.
    let before = Number.MAX_SAFE_INTEGER;
    for (let scanned = 0; scanned < MAX_SEGMENTS_SCANNED; ) {
      let query = this.db
        .selectFrom('audit_segment')
        .select(['id', 'data'])
        .where('id', '<', before)
        .orderBy('id', 'desc')
        .limit(20);
      if (q.actorId) query = query.where('actors', 'like', `%,${escapeLike(q.actorId)},%`);
      if (q.command) query = query.where('commands', 'like', `%,${escapeLike(q.command)},%`);
      if (q.since) query = query.where('last_at', '>=', q.since);
      const rows = await query.execute();
      for (const row of rows) {
        const entries = (JSON.parse(row.data) as unknown[][]).map(fromTuple);
        for (let i = entries.length - 1; i >= 0; i--) {
          const e = entries[i]!;
          if (q.actorId && e.actorId !== q.actorId) continue;
          if (q.command && e.command !== q.command) continue;
          if (q.since && e.at < q.since) continue;
          out.push(e);
          if (out.length >= limit) return out;
        }
      }
      if (rows.length < 20) break;
      scanned += rows.length;
      before = Number(rows.at(-1)!.id);
    }
    return out;
  }

  /** Deletes segments whose newest entry is older than `cutoff` (ms epoch); returns entries removed. */
  async prune(cutoff: number): Promise<number> {
    const old = await this.db
      .selectFrom('audit_segment')
      .select((eb) => eb.fn.sum<number>('entries').as('n'))
      .where('last_at', '<', cutoff)
      .executeTakeFirst();
    await this.db.deleteFrom('audit_segment').where('last_at', '<', cutoff).execute();
    return Number(old?.n ?? 0);
  }
}

function escapeLike(s: string): string {
  // Actor ids and command paths never contain % or _ in practice; drop them rather than escape
  // (LIKE escaping differs between SQLite and PostgreSQL). The entry filter below is exact anyway.
  return s.replace(/[%_,]/g, '');
}

function segmentRow(batch: AuditEntry[]) {
  const actors = new Set<string>();
  const commands = new Set<string>();
  let first = Number.POSITIVE_INFINITY;
  let last = 0;
  const tuples = batch.map((e) => {
    actors.add(e.actorId);
    commands.add(e.command);
    if (e.at < first) first = e.at;
    if (e.at > last) last = e.at;
    return toTuple(e);
  });
  return {
    first_at: first,
    last_at: last,
    entries: batch.length,
    actors: `,${[...actors].join(',')},`,
    commands: `,${[...commands].join(',')},`,
    data: JSON.stringify(tuples),
  };
}

/** Entries are stored as arrays (no repeated keys): smaller and faster to write. */
function toTuple(e: AuditEntry): unknown[] {
  return [
    e.at,
    e.kind,
    e.actorId,
    e.actorNick ?? null,
    e.conversationId ?? null,
    e.conversationType ?? null,
    e.command,
    e.args ?? null,
    e.outcome,
    e.detail ?? null,
    e.durationMs ?? null,
    e.via ?? null,
  ];
}

function fromTuple(t: unknown[]): AuditEntry {
  const opt = <T>(v: unknown) => (v === null ? undefined : (v as T));
  return {
    at: t[0] as number,
    kind: t[1] as AuditEntry['kind'],
    actorId: t[2] as string,
    actorNick: opt(t[3]),
    conversationId: opt(t[4]),
    conversationType: opt(t[5]),
    command: t[6] as string,
    args: opt(t[7]),
    outcome: t[8] as AuditOutcome,
    detail: opt(t[9]),
    durationMs: opt(t[10]),
    via: opt(t[11]),
  };
}
