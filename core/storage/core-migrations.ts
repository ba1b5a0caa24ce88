import type { Kysely } from 'kysely';
import { isPostgres } from './database.js';
import type { MigrationList } from './migrations.js';
import { withAutoId } from './schema-helpers.js';

export const coreMigrations: MigrationList = {
  '0001_kv_and_audit': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('plugin_kv')
        .addColumn('plugin', 'varchar(100)', (c) => c.notNull())
        .addColumn('key', 'varchar(500)', (c) => c.notNull())
        .addColumn('value', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'bigint')
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('plugin_kv_pk', ['plugin', 'key'])
        .execute();
      // The audit log is written on every command and read rarely, so entries are stored
      // in segments: one row per flushed batch, entries as deflated JSON arrays. `actors` and
      // `commands` (",alice,bob,") let queries skip segments in SQL without parsing them.
      await withAutoId(db, db.schema.createTable('audit_segment'))
        .addColumn('first_at', 'bigint', (c) => c.notNull())
        .addColumn('last_at', 'bigint', (c) => c.notNull())
        .addColumn('entries', 'integer', (c) => c.notNull())
        .addColumn('actors', 'text', (c) => c.notNull())
        .addColumn('commands', 'text', (c) => c.notNull())
        .addColumn('data', isPostgres(db) ? 'bytea' : 'blob', (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable('audit_segment').execute();
      await db.schema.dropTable('plugin_kv').execute();
    },
  },
};
