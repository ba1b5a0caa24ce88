import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { CoreTables } from '../storage/core-tables.js';
import { capText } from '../util/cap-text.js';
import { token } from '../util/di-token.js';
import type { SecretRedactor } from '../util/redact.js';

export type AuditOutcome = 'ok' | 'denied' | 'invalid' | 'error' | 'unknown' | 'cancelled' | 'pending';

export interface AuditEntry {
  at: number;
  kind: 'command' | 'action' | 'task' | 'system' | 'plugin';
  actorId: string;
  actorNick?: string;
  conversationId?: string;
  conversationType?: string;
  /** Command path (`alerts silence add`) or action id (`alerts.ack`). */
  command: string;
  /** The command line as typed (normalized); secret values are removed when recorded. */
  text?: string;
  /** Structured arguments (card action params, task params); secret values are removed when recorded. */
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
/** The most of a command line or detail an entry keeps (characters). */
const MAX_TEXT = 2000;
const PAGE = 20;

/**
 * Records every command and card action. The hot path only redacts and pushes; a short
 * timer (or a full buffer, or shutdown) writes the buffer as one segment row: one insert
 * per batch, the same on SQLite and PostgreSQL. A failed write keeps the entries and
 * retries; only past `maxBuffered` are the oldest dropped, and that is logged with a count.
 *
 * Segment format (deflated JSON): `{ v: 1, d: [strings], e: [[Δat, kind, actor, nick,
 * conversation, conversationType, command, outcome, via, durationµs, text, args, detail]] }`
 * where the string fields are indexes into `d`: audit data is repetitive, so this and the
 * compression make a segment small and cheap to write.
 */
export class AuditLog {
  private buffer: AuditEntry[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  dropped = 0;

  constructor(
    private readonly db: Kysely<CoreTables>,
    private readonly log: Logger,
    private readonly options: {
      flushIntervalMs?: number;
      batchSize?: number;
      maxBuffered?: number;
      redactor?: SecretRedactor;
    } = {},
  ) {}

  start(): void {
    this.timer ??= setInterval(() => void this.flush(), this.options.flushIntervalMs ?? 250);
    this.timer.unref();
  }

  /**
   * Records an entry. Secret values never reach the buffer: keys in `secretKeys` are
   * masked in `args`, and every registered secret and token pattern is removed from
   * `text`, `args` and `detail` here.
   */
  record(entry: AuditEntry, secretKeys?: ReadonlySet<string>): void {
    const r = this.options.redactor;
    if (r) {
      if (entry.text) entry.text = r.redact(entry.text);
      if (entry.detail) entry.detail = r.redact(entry.detail);
    }
    // Bounded where it is stored: a 100 KB message is kept as its start, marked as cut.
    if (entry.text) entry.text = capText(entry.text, MAX_TEXT);
    if (entry.detail) entry.detail = capText(entry.detail, MAX_TEXT);
    if (entry.args) {
      let args = entry.args;
      if (secretKeys?.size) {
        args = { ...args };
        for (const k of secretKeys) if (k in args) args[k] = '***';
      }
      entry.args = r ? r.redactDeep(args) : args;
    }
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

  /** Writes everything recorded so far (after any write already in flight). */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (!this.buffer.length) return;
    this.flushing = this.writeAll().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  /**
   * Writes what is buffered now, in segments of at most `batchSize`. Entries recorded while
   * a write is in flight wait for the next flush: chasing them would turn every few
   * messages into a tiny segment.
   */
  private async writeAll(): Promise<void> {
    let remaining = this.buffer.length;
    while (remaining > 0) {
      const batch = this.buffer.slice(0, Math.min(remaining, this.options.batchSize ?? 2000));
      try {
        await this.db.insertInto('audit_segment').values(encodeSegment(batch)).execute();
        this.buffer.splice(0, batch.length);
        remaining -= batch.length;
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
    for (let scanned = 0; scanned < MAX_SEGMENTS_SCANNED; scanned += PAGE) {
      let query = this.db
        .selectFrom('audit_segment')
        .select(['id', 'data'])
        .where('id', '<', before)
        .orderBy('id', 'desc')
        .limit(PAGE);
      if (q.actorId) query = query.where('actors', 'like', `%,${likeSafe(q.actorId)},%`);
      if (q.command) query = query.where('commands', 'like', `%,${likeSafe(q.command)},%`);
      if (q.since) query = query.where('last_at', '>=', q.since);
      const rows = await query.execute();
      for (const row of rows) {
        const entries = decodeSegment(row.data as Buffer);
        for (const e of entries.toReversed()) {
          if (q.actorId && e.actorId !== q.actorId) continue;
          if (q.command && e.command !== q.command) continue;
          if (q.since && e.at < q.since) continue;
          out.push(e);
          if (out.length >= limit) return out;
        }
      }
      if (rows.length < PAGE) break;
      before = Number(rows.at(-1)?.id);
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

/** Actor ids and command paths never contain these; dropping them keeps LIKE portable (escaping differs by database). The per-entry filter is exact anyway. */
function likeSafe(s: string): string {
  return s.replace(/[%_,\\]/g, '');
}

function encodeSegment(batch: AuditEntry[]) {
  const dict: string[] = [];
  const index = new Map<string, number>();
  const ref = (s: string | undefined): number => {
    if (s === undefined) return -1;
    let i = index.get(s);
    if (i === undefined) {
      i = dict.length;
      dict.push(s);
      index.set(s, i);
    }
    return i;
  };
  const first = batch.reduce((m, e) => Math.min(m, e.at), Number.POSITIVE_INFINITY);
  let last = 0;
  const actors = new Set<string>();
  const commands = new Set<string>();
  const rows = new Array<unknown[]>(batch.length);
  for (const [i, e] of batch.entries()) {
    if (e.at > last) last = e.at;
    actors.add(e.actorId);
    commands.add(e.command);
    rows[i] = [
      e.at - first,
      ref(e.kind),
      ref(e.actorId),
      ref(e.actorNick),
      ref(e.conversationId),
      ref(e.conversationType),
      ref(e.command),
      ref(e.outcome),
      ref(e.via),
      e.durationMs === undefined ? -1 : Math.round(e.durationMs * 1000),
      e.text ?? null,
      e.args ?? null,
      e.detail ?? null,
    ];
  }
  return {
    first_at: first,
    last_at: last,
    entries: batch.length,
    actors: `,${[...actors].join(',')},`,
    commands: `,${[...commands].join(',')},`,
    data: deflateRawSync(JSON.stringify({ v: 1, t0: first, d: dict, e: rows }), { level: 1 }),
  };
}

function decodeSegment(data: Buffer): AuditEntry[] {
  const seg = JSON.parse(inflateRawSync(data).toString('utf8')) as {
    t0: number;
    d: string[];
    e: unknown[][];
  };
  const s = (i: unknown) => (i === -1 ? undefined : seg.d[i as number]);
  return seg.e.map((r) => ({
    at: seg.t0 + (r[0] as number),
    kind: s(r[1]) as AuditEntry['kind'],
    actorId: s(r[2]) ?? '',
    actorNick: s(r[3]),
    conversationId: s(r[4]),
    conversationType: s(r[5]),
    command: s(r[6]) ?? '',
    outcome: s(r[7]) as AuditOutcome,
    via: s(r[8]),
    durationMs: r[9] === -1 ? undefined : (r[9] as number) / 1000,
    text: (r[10] as string | null) ?? undefined,
    args: (r[11] as Record<string, unknown> | null) ?? undefined,
    detail: (r[12] as string | null) ?? undefined,
  }));
}

/** The DI token of the AuditLog. */
export const AuditToken = token<AuditLog>('Audit');
