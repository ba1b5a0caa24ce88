import type { CreateTableBuilder, Kysely } from 'kysely';
import { isPostgres } from './database.js';

/**
 * Column helpers for migrations that run on both SQLite and PostgreSQL, for the core
 * and for plugins. Timestamps are epoch milliseconds in `bigint`; JSON is `text`;
 * booleans are integers 0/1, the one form both databases index and compare alike.
 */
export function withAutoId<DB, T extends string, C extends string>(
  db: Kysely<DB>,
  table: CreateTableBuilder<T, C>,
  name = 'id',
): CreateTableBuilder<T, C | string> {
  return isPostgres(db)
    ? table.addColumn(name, 'bigserial', (c) => c.primaryKey())
    : table.addColumn(name, 'integer', (c) => c.primaryKey().autoIncrement());
}
