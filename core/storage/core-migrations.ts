import type { Kysely } from 'kysely';
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
      await withAutoId(db, db.schema.createTable('audit_log'))
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('kind', 'varchar(20)', (c) => c.notNull())
        .addColumn('actor_id', 'varchar(200)', (c) => c.notNull())
        .addColumn('actor_nick', 'varchar(200)')
        .addColumn('conversation_id', 'varchar(200)')
        .addColumn('conversation_type', 'varchar(10)')
        .addColumn('command', 'varchar(200)', (c) => c.notNull())
        .addColumn('args', 'text')
        .addColumn('outcome', 'varchar(20)', (c) => c.notNull())
        .addColumn('detail', 'text')
        .addColumn('duration_ms', 'real')
        .addColumn('via', 'varchar(20)')
        .execute();
      await db.schema.createIndex('audit_log_at').on('audit_log').column('at').execute();
      await db.schema.createIndex('audit_log_actor').on('audit_log').columns(['actor_id', 'at']).execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable('audit_log').execute();
      await db.schema.dropTable('plugin_kv').execute();
    },
  },
};
