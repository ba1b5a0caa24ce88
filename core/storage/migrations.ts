import { type Kysely, type Migration, type MigrationProvider, Migrator, sql } from 'kysely';
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
    db,
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
