import { mkdirSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import SQLite from 'better-sqlite3';
import { type CompiledQuery, Kysely, PostgresAdapter, PostgresDialect, SqliteDialect } from 'kysely';
import { token } from '../util/di-token.js';
import type { CoreTables } from './core-tables.js';
import { WalCheckpointer } from './wal-checkpointer.js';
import { WriteBatcher } from './write-batcher.js';
import type { WriteResult } from './write-result.js';

export type DialectName = 'sqlite' | 'postgres';

/** An open store: one Kysely instance over SQLite or PostgreSQL. */
export interface Database {
  db: Kysely<CoreTables>;
  dialect: DialectName;
  /** Human-readable location with any password removed. */
  describe: string;
  /**
   * Executes a write on the hot path (outbox, inbox): group-committed on SQLite, a plain
   * query on PostgreSQL. The promise resolves once the write is committed.
   */
  write(query: CompiledQuery): Promise<WriteResult>;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** Relative sqlite paths resolve against this directory. */
  baseDir?: string;
  /** Told about trouble the store works around (e.g. the checkpoint thread failing). */
  warn?: (message: string, err: unknown) => void;
}

/**
 * Opens `sqlite:<path>` (or `sqlite::memory:`) or `postgres://...`. A PostgreSQL URL may
 * carry `?schema=<name>`: the schema is created if missing and used as search_path, so
 * several test runs (or bots) can share one server without seeing each other's tables.
 */
export async function openDatabase(url: string, options: OpenOptions = {}): Promise<Database> {
  if (url.startsWith('sqlite:'))
    return openSqlite(url.slice('sqlite:'.length), options.baseDir ?? process.cwd(), options.warn);
  if (/^postgres(ql)?:\/\//.test(url)) return openPostgres(url, options.warn);
  throw new Error(`unsupported storage url (expected sqlite:<path> or postgres://...): ${redactUrl(url)}`);
}

/** The SQLite page cache of the bot's connection, in KiB. */
const SQLITE_CACHE_KB = 2048;

function openSqlite(path: string, baseDir: string, warn: OpenOptions['warn']): Database {
  const memory = path === ':memory:' || path === '';
  const file = memory ? ':memory:' : isAbsolute(path) ? path : resolve(baseDir, path);
  if (!memory) mkdirSync(dirname(file), { recursive: true });
  const sqlite = new SQLite(file);
  // WAL lets readers run beside the writer; NORMAL sync is durable across process crashes
  // (only an OS crash can lose the last transactions), which matches our outbox guarantees.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  // better-sqlite3 builds SQLite with a 16 MB page cache per connection; under load it filled
  // and stayed, the largest part of a busy bot's memory. The bot's working set (the newest
  // inbox, outbox and audit pages) fits in a few MB, and the OS caches the file besides.
  // 2 MB against 4 MB: 2-3 MB less under chat load, the same throughput (paired runs).
  sqlite.pragma(`cache_size = -${SQLITE_CACHE_KB}`);
  cachePreparedStatements(sqlite);
  const db = new Kysely<CoreTables>({ dialect: new SqliteDialect({ database: sqlite }) });
  const batcher = new WriteBatcher(sqlite);
  const write = (q: CompiledQuery) => batcher.write(q);
  if (memory) return { db, dialect: 'sqlite', describe: 'sqlite::memory:', write, close: () => db.destroy() };
  // The log is copied into the database file by a worker thread, not inside the bot's commits.
  const checkpointer = new WalCheckpointer(sqlite, file, {
    onFallback: (err) =>
      warn?.('storage: the checkpoint thread failed; SQLite checkpoints on the main thread again', err),
  });
  return {
    db,
    dialect: 'sqlite',
    describe: `sqlite:${file}`,
    write,
    close: async () => {
      // First, so the main connection is the last one and removes the log as it closes.
      await checkpointer.close();
      await db.destroy();
    },
  };
}

/** A lost PostgreSQL connection is said at most this often (a restart cuts every pooled one at once). */
const LOST_CONNECTION_LOG_MS = 30_000;

async function openPostgres(url: string, warn: OpenOptions['warn']): Promise<Database> {
  // Loaded on demand: most installs run on SQLite and need not carry the driver in memory.
  const { default: pg } = await import('pg');
  const parsed = new URL(url);
  const schema = parsed.searchParams.get('schema');
  parsed.searchParams.delete('schema');
  if (schema && !/^[a-z_][a-z0-9_]*$/i.test(schema))
    throw new Error(`invalid postgres schema name: ${schema}`);
  const pool = new pg.Pool({
    connectionString: parsed.toString(),
    max: 10,
    // int8 (counts, ms timestamps, bigserial ids) and numeric as JS numbers: our values stay below 2^53.
    types: {
      getTypeParser: ((oid: number, format?: string) =>
        oid === 20 || oid === 1700
          ? (v: string) => Number(v)
          : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
    },
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  });
  // An idle pooled connection the server closes (a restart, a failover, an idle timeout)
  // emits 'error' on the pool; unhandled, Node would end the process. The pool drops that
  // connection and opens a new one for the next query, so this only says it happened; a
  // query in flight fails by itself, to its caller, who retries or answers 503.
  let lastSaid = 0;
  const lost = (err: unknown) => {
    const now = Date.now();
    if (now - lastSaid < LOST_CONNECTION_LOG_MS) return;
    lastSaid = now;
    warn?.('storage: lost a connection to PostgreSQL; the next queries open new ones', err);
  };
  pool.on('error', lost);
  // A connection in use between two queries (a transaction, a held lock) gets the server's
  // "terminating connection" as an 'error' event the pool no longer listens to: ours does.
  pool.on('connect', (client) => client.on('error', lost));
  if (schema) {
    const client = await pool.connect();
    try {
      await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    } catch (err) {
      // Replicas starting together on a new schema: "IF NOT EXISTS" is checked before the
      // insert, so all but one fail on the catalog's unique index. The schema is there.
      if ((err as { code?: string }).code !== '23505') throw err;
    } finally {
      client.release();
    }
  }
  const db = new Kysely<CoreTables>({ dialect: new PostgresDialect({ pool }) });
  const write = async (q: CompiledQuery): Promise<WriteResult> => {
    const r = await db.executeQuery(q);
    return {
      numAffectedRows: Number(r.numAffectedRows ?? r.rows.length),
      rows: r.rows as Array<Record<string, unknown>>,
    };
  };
  return { db, dialect: 'postgres', describe: redactUrl(url), write, close: () => db.destroy() };
}

/**
 * Kysely's SQLite driver prepares every statement on every call; better-sqlite3 statements
 * can be run again and again, so prepared statements are kept per SQL text (bounded, since
 * some SQL varies, e.g. IN lists).
 */
function cachePreparedStatements(sqlite: SQLite.Database, max = 500): void {
  const prepare = sqlite.prepare.bind(sqlite);
  const cache = new Map<string, SQLite.Statement>();
  sqlite.prepare = ((source: string) => {
    let stmt = cache.get(source);
    if (!stmt) {
      if (cache.size >= max) cache.clear();
      stmt = prepare(source);
      cache.set(source, stmt);
    }
    return stmt;
  }) as typeof sqlite.prepare;
}

export function isPostgres<DB>(db: Kysely<DB>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

export function redactUrl(url: string): string {
  return url.replace(/(\/\/[^:/@]+:)[^@]*@/, '$1***@');
}

/** The DI token of the Database. */
export const DatabaseToken = token<Database>('Database');
