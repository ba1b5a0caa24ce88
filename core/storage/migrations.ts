import {
  type DatabaseIntrospector,
  type Kysely,
  type Migration,
  type MigrationProvider,
  Migrator,
  type SchemaMetadata,
  sql,
  type TableMetadata,
} from 'kysely';
import { isPostgres } from './database.js';

/** Migrations as plain objects, in order; names must sort in the order they run. */
export type MigrationList = Record<string, Migration>;

class InlineProvider implements MigrationProvider {
  constructor(private readonly migrations: MigrationList) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    return this.migrations;
  }
}

/**
 * Runs migrations to the latest version. Each owner (the core, each plugin) has its own
 * migration table, so plugins evolve their tables independently and a plugin removed
 * from config leaves the others untouched. Migrations run under the migrator's lock (a row
 * of the lock table held for update): replicas starting together migrate once.
 *
 * A database a newer version already migrated (a rolling upgrade: this replica is the
 * previous version, restarting) is used as it is, and `newer` is told which migrations this
 * version does not know. That is safe because every migration only adds (tables, nullable
 * or defaulted columns, indexes); `test/core/storage/expand-only.test.ts` enforces it.
 */
export async function migrateToLatest<DB>(
  db: Kysely<DB>,
  owner: string,
  migrations: MigrationList,
  newer?: (names: string[]) => void,
): Promise<string[]> {
  const table =
    owner === 'core' ? 'dingops_migrations' : `dingops_migrations__${owner.replace(/[^a-z0-9_]/gi, '_')}`;
  // On PostgreSQL, pin the migration tables to the current schema: Kysely otherwise looks
  // for them in every schema and can mistake another bot's (or test's) tables for ours.
  const schema = isPostgres(db)
    ? (await sql<{ s: string }>`select current_schema() as s`.execute(db)).rows[0]?.s
    : undefined;
  const executed = await executedMigrations(db, table, schema);
  const unknown = executed.filter((name) => !(name in migrations));
  if (unknown.length) {
    const ours = Object.keys(migrations).sort();
    const last = ours.at(-1) ?? '';
    if (unknown.some((name) => name <= last) || ours.some((name) => !executed.includes(name)))
      throw new Error(
        `the ${owner} migrations in this database (${unknown.join(', ')}) are not this version's, and not only newer ones: restore the version that made them`,
      );
    newer?.(unknown.sort());
    return [];
  }
  const migrator = new Migrator({
    db: schema ? inOneSchema(db, schema) : db,
    migrationTableSchema: schema,
    provider: new InlineProvider(migrations),
    migrationTableName: table,
    migrationLockTableName: `${table}_lock`,
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    throw new Error(
      `migration ${failed ?? ''} of ${owner} failed: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/**
 * The database as the migrator sees it on PostgreSQL: looking for its own tables, Kysely lists
 * every table of every schema, which is slow on a shared server and fails when another schema
 * is dropped during the listing (several bots, or test runs, on one server). This one lists
 * ours only.
 */
function inOneSchema<DB>(db: Kysely<DB>, schema: string): Kysely<DB> {
  const introspection: DatabaseIntrospector = {
    async getSchemas(): Promise<SchemaMetadata[]> {
      const { rows } = await sql<{ name: string }>`
        select nspname as name from pg_namespace where nspname = ${schema}`.execute(db);
      return rows;
    },
    async getTables(): Promise<TableMetadata[]> {
      const { rows } = await sql<{ name: string }>`
        select table_name as name from information_schema.tables where table_schema = ${schema}`.execute(db);
      return rows.map((r) => ({ name: r.name, schema, isView: false, columns: [] }));
    },
    async getMetadata() {
      return { tables: await this.getTables() };
    },
  };
  return new Proxy(db, {
    get(target, property) {
      if (property === 'introspection') return introspection;
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** The migrations recorded in an owner's table (none before its first migration). */
async function executedMigrations<DB>(db: Kysely<DB>, table: string, schema?: string): Promise<string[]> {
  const exists = schema
    ? await sql<{
        n: number;
      }>`select 1 as n from information_schema.tables where table_schema = ${schema} and table_name = ${table}`.execute(
        db,
      )
    : await sql<{
        n: number;
      }>`select 1 as n from sqlite_master where type = 'table' and name = ${table}`.execute(db);
  if (!exists.rows.length) return [];
  const { rows } = await sql<{ name: string }>`select name from ${sql.table(table)}`.execute(db);
  return rows.map((r) => r.name);
}
