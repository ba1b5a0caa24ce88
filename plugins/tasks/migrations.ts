import { type MigrationList, withAutoId } from 'dingops';

export const tasksMigrations: MigrationList = {
  '0001_tasks': {
    async up(db) {
      // Every run: who, where, what, with which values, how it ended. Output lives beside it.
      await withAutoId(db, db.schema.createTable('tasks_run'))
        .addColumn('task', 'varchar(100)', (c) => c.notNull())
        .addColumn('params', 'text', (c) => c.notNull())
        .addColumn('requested_by', 'varchar(100)', (c) => c.notNull())
        .addColumn('requested_by_nick', 'varchar(200)', (c) => c.notNull())
        .addColumn('conversation', 'text', (c) => c.notNull())
        .addColumn('approved_by', 'varchar(100)')
        .addColumn('status', 'varchar(20)', (c) => c.notNull())
        .addColumn('exit_code', 'integer')
        .addColumn('signal', 'varchar(20)')
        .addColumn('card_id', 'varchar(200)')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('started_at', 'bigint')
        .addColumn('ended_at', 'bigint')
        .addColumn('output', 'text')
        .addColumn('dropped_bytes', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('error', 'text')
        .execute();
      await db.schema.createIndex('tasks_run_status').on('tasks_run').columns(['status']).execute();
      // Requests waiting for a second person.
      await withAutoId(db, db.schema.createTable('tasks_approval'))
        .addColumn('task', 'varchar(100)', (c) => c.notNull())
        .addColumn('params', 'text', (c) => c.notNull())
        .addColumn('requested_by', 'varchar(100)', (c) => c.notNull())
        .addColumn('requested_by_nick', 'varchar(200)', (c) => c.notNull())
        .addColumn('conversation', 'text', (c) => c.notNull())
        .addColumn('status', 'varchar(20)', (c) => c.notNull())
        .addColumn('decided_by', 'varchar(100)')
        .addColumn('run_id', 'bigint')
        .addColumn('cards', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('decided_at', 'bigint')
        .execute();
      await db.schema.createIndex('tasks_approval_status').on('tasks_approval').columns(['status']).execute();
    },
    async down(db) {
      await db.schema.dropTable('tasks_approval').execute();
      await db.schema.dropTable('tasks_run').execute();
    },
  },
  '0002_replicas': {
    async up(db) {
      // Which replica runs a run (only it can follow the process), and a cancel asked for on
      // another replica, which the running one picks up. Added columns: old versions run on.
      await db.schema.alterTable('tasks_run').addColumn('replica', 'varchar(100)').execute();
      await db.schema.alterTable('tasks_run').addColumn('cancel_requested_by', 'varchar(100)').execute();
    },
    async down(db) {
      await db.schema.alterTable('tasks_run').dropColumn('cancel_requested_by').execute();
      await db.schema.alterTable('tasks_run').dropColumn('replica').execute();
    },
  },
  '0003_approval_digest': {
    async up(db) {
      // The task's definition when the request was made: approving runs only what was asked.
      await db.schema.alterTable('tasks_approval').addColumn('task_digest', 'varchar(64)').execute();
    },
    async down(db) {
      await db.schema.alterTable('tasks_approval').dropColumn('task_digest').execute();
    },
  },
  '0004_run_guards': {
    async up(db) {
      // One row per running run of a task, in slots 0..concurrency-1 (the primary key): a
      // run starts only when it can take a free slot, on whichever replica, whatever the path.
      await db.schema
        .createTable('tasks_slot')
        .addColumn('task', 'varchar(100)', (c) => c.notNull())
        .addColumn('slot', 'integer', (c) => c.notNull())
        .addColumn('run_id', 'bigint')
        .addColumn('replica', 'varchar(100)')
        .addColumn('claimed_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('tasks_slot_pk', ['task', 'slot'])
        .execute();
      // The chat message a run was asked with: handled again (after a crash), it starts nothing
      // new. Unique where set (runs asked otherwise have none: SQLite and PostgreSQL both let
      // NULLs repeat in a unique index).
      await db.schema.alterTable('tasks_run').addColumn('message_id', 'varchar(300)').execute();
      await db.schema
        .createIndex('tasks_run_message')
        .on('tasks_run')
        .column('message_id')
        .unique()
        .execute();
      // Where its processes run (their group leader and the machine): a run is marked
      // interrupted only when they are gone.
      await db.schema.alterTable('tasks_run').addColumn('pid', 'integer').execute();
      await db.schema.alterTable('tasks_run').addColumn('host', 'varchar(200)').execute();
    },
    async down(db) {
      await db.schema.alterTable('tasks_run').dropColumn('host').execute();
      await db.schema.alterTable('tasks_run').dropColumn('pid').execute();
      await db.schema.dropIndex('tasks_run_message').execute();
      await db.schema.alterTable('tasks_run').dropColumn('message_id').execute();
      await db.schema.dropTable('tasks_slot').execute();
    },
  },
};
