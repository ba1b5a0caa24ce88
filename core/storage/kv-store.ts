import { type CompiledQuery, type Kysely, sql } from 'kysely';
import type { CoreTables } from './core-tables.js';

/** Per-plugin durable key-value store (JSON values, optional expiry). */
export interface KeyValueStore {
  get<T = unknown>(key: string): Promise<T | undefined>;
  set(key: string, value: unknown, options?: { ttlMs?: number }): Promise<void>;
  delete(key: string): Promise<boolean>;
  /** Keys (and values) starting with a prefix, oldest key first; expired entries are skipped. */
  list<T = unknown>(prefix?: string, limit?: number): Promise<Array<{ key: string; value: T }>>;
}

export class SqlKeyValueStore implements KeyValueStore {
  constructor(
    private readonly db: Kysely<CoreTables>,
    private readonly plugin: string,
    private readonly now: () => number = Date.now,
    /** The store's group-committed write path (`Database.write`); plain execution without it. */
    private readonly write?: (q: CompiledQuery) => Promise<unknown>,
  ) {}

  // get and set are raw statements: plugins call them per message, and building the query
  // costs more than SQLite takes to run it.
  async get<T>(key: string): Promise<T | undefined> {
    const { rows } = await sql<{ value: string; expires_at: number | null }>`
      select value, expires_at from plugin_kv where plugin = ${this.plugin} and key = ${key}`.execute(
      this.db,
    );
    const row = rows[0];
    if (!row || (row.expires_at != null && Number(row.expires_at) <= this.now())) return undefined;
    return JSON.parse(row.value) as T;
  }

  async set(key: string, value: unknown, options: { ttlMs?: number } = {}): Promise<void> {
    if (key.length > 500) throw new Error('kv key longer than 500 characters');
    const now = this.now();
    const json = JSON.stringify(value ?? null);
    const expiresAt = options.ttlMs ? now + options.ttlMs : null;
    const query = sql`insert into plugin_kv (plugin, key, value, expires_at, updated_at)
      values (${this.plugin}, ${key}, ${json}, ${expiresAt}, ${now})
      on conflict (plugin, key) do update set value = excluded.value, expires_at = excluded.expires_at, updated_at = excluded.updated_at`;
    // Plugins write on their hot paths (per message): group commit keeps that cheap.
    if (this.write) await this.write(query.compile(this.db));
    else await query.execute(this.db);
  }

  async delete(key: string): Promise<boolean> {
    const r = await this.db
      .deleteFrom('plugin_kv')
      .where('plugin', '=', this.plugin)
      .where('key', '=', key)
      .executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async list<T>(prefix = '', limit = 1000): Promise<Array<{ key: string; value: T }>> {
    // substr/length compare exactly on both databases, unlike LIKE (escaping) or ranges (collation).
    const rows = await this.db
      .selectFrom('plugin_kv')
      .select(['key', 'value', 'expires_at'])
      .where('plugin', '=', this.plugin)
      .where(sql`substr(${sql.ref('key')}, 1, ${prefix.length})`, '=', prefix)
      .orderBy('key')
      .limit(limit)
      .execute();
    const now = this.now();
    return rows
      .filter((r) => r.expires_at == null || Number(r.expires_at) > now)
      .map((r) => ({ key: r.key, value: JSON.parse(r.value) as T }));
  }
}
