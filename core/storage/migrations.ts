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
 * from config leaves the others untouched.
 */
export async function migrateToLatest<DB>(
  db: Kysely<DB>,
  owner: string,
  migrations: MigrationList,
): Promise<string[]> {
  const table =
    owner === 'core' ? 'dingops_migrations' : `dingops_migrations__${owner.replace(/[^a-z0-9_]/gi, '_')}`;
  // On PostgreSQL, pin the migration tables to the current schema: Kysely otherwise looks
  // for them in every schema and can mistake another bot's (or test's) tables for ours.
  const schema = isPostgres(db)
    ? (await sql<{ s: string }>`select current_schema() as s`.execute(db)).rows[0]?.s
    : undefined;
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
