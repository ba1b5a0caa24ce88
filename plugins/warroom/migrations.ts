import type { MigrationList } from 'dingops';

export const warroomMigrations: MigrationList = {
  '0001_warroom': {
    async up(db) {
      // One room per incident. A row exists from the moment creation is asked for
      // ('opening'), so a restart resumes it with the same idempotency uuid.
      await db.schema
        .createTable('warroom_room')
        .addColumn('incident_id', 'bigint', (c) => c.primaryKey())
        .addColumn('uuid', 'varchar(64)', (c) => c.notNull())
        .addColumn('status', 'varchar(10)', (c) => c.notNull())
        .addColumn('title', 'varchar(200)', (c) => c.notNull())
        .addColumn('open_conversation_id', 'varchar(200)')
        .addColumn('url', 'text')
        .addColumn('opened_by', 'varchar(100)', (c) => c.notNull())
        .addColumn('opened_by_nick', 'varchar(200)', (c) => c.notNull())
        // userIds in the room, and people who could not be invited (reported once).
        .addColumn('members', 'text', (c) => c.notNull())
        .addColumn('unresolved', 'text', (c) => c.notNull())
        .addColumn('summary_card_id', 'varchar(200)')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('opened_at', 'bigint')
        .addColumn('last_update_at', 'bigint')
        .addColumn('last_update_by', 'varchar(100)')
        .addColumn('last_reminder_at', 'bigint')
        .addColumn('closed_at', 'bigint')
        .addColumn('postmortem', 'text')
        .execute();
      await db.schema
        .createIndex('warroom_room_conversation')
        .on('warroom_room')
        .columns(['open_conversation_id'])
        .execute();
    },
    async down(db) {
      await db.schema.dropTable('warroom_room').execute();
    },
  },
};
