import { type CompiledQuery, type Kysely, sql } from 'kysely';

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
    private readonly db: Kysely<any>,
    private readonly plugin: string,
    private readonly now: () => number = Date.now,
    /** The store's group-committed write path (`Database.write`); plain execution without it. */
    private readonly write?: (q: CompiledQuery) => Promise<unknown>,
  ) {}

  async get<T>(key: string): Promise<T | undefined> {
    const row = await this.db
      .selectFrom('plugin_kv')
      .select(['value', 'expires_at'])
      .where('plugin', '=', this.plugin)
      .where('key', '=', key)
      .executeTakeFirst();
    if (!row || (row.expires_at != null && Number(row.expires_at) <= this.now())) return undefined;
    return JSON.parse(row.value) as T;
  }

  async set(key: string, value: unknown, options: { ttlMs?: number } = {}): Promise<void> {
    if (key.length > 500) throw new Error('kv key longer than 500 characters');
    const now = this.now();
    const row = {
      plugin: this.plugin,
      key,
      value: JSON.stringify(value ?? null),
      expires_at: options.ttlMs ? now + options.ttlMs : null,
      updated_at: now,
    };
    const query = this.db
      .insertInto('plugin_kv')
      .values(row)
      .onConflict((oc) =>
        oc
          .columns(['plugin', 'key'])
          .doUpdateSet({ value: row.value, expires_at: row.expires_at, updated_at: now }),
      );
    // Plugins write on their hot paths (per message): group commit keeps that cheap.
    if (this.write) await this.write(query.compile());
    else await query.execute();
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
