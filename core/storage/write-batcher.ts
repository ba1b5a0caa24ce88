import type SQLite from 'better-sqlite3';
import type { CompiledQuery } from 'kysely';
import type { WriteResult } from './write-result.js';

interface Pending {
  query: CompiledQuery;
  resolve: (r: WriteResult) => void;
  reject: (e: unknown) => void;
}

/**
 * Group commit for SQLite: writes queued in the same event-loop turn are committed in one
 * transaction. Each commit rewrites every page it touches, so committing the four writes of
 * a message separately costs several times the disk traffic of committing a turn's worth of
 * messages together. A caller's promise resolves only after its write is committed. If one
 * statement fails, the batch is retried one statement at a time, so a bad write fails alone.
 * A flush waits while another transaction is open on the connection, so queued writes never
 * join (and never roll back with) someone else's transaction.
 */

export class WriteBatcher {
  private queue: Pending[] = [];
  private scheduled = false;

  constructor(private readonly sqlite: SQLite.Database) {}

  write(query: CompiledQuery): Promise<WriteResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ query, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    if (this.sqlite.inTransaction) {
      setImmediate(() => this.flush());
      return;
    }
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    if (!batch.length) return;
    let results: WriteResult[];
    try {
      results = this.sqlite.transaction(() => batch.map((p) => this.run(p.query)))();
    } catch {
      for (const p of batch) {
        try {
          p.resolve(this.sqlite.transaction(() => this.run(p.query))());
        } catch (err) {
          p.reject(err);
        }
      }
      return;
    }
    // One result per query, in order (the transaction ran them all).
    batch.forEach((p, i) => {
      const r = results[i];
      if (r) p.resolve(r);
      else p.reject(new Error('write batch returned fewer results than queries'));
    });
  }

  private run(query: CompiledQuery): WriteResult {
    const stmt = this.sqlite.prepare(query.sql);
    const params = query.parameters as unknown[];
    if (stmt.reader) {
      const rows = stmt.all(...params) as Array<Record<string, unknown>>;
      return { numAffectedRows: rows.length, rows };
    }
    const r = stmt.run(...params);
    return { numAffectedRows: r.changes, rows: [] };
  }
}
