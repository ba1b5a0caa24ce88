import { type MigrationList, withAutoId } from 'dingops';

export const alertsMigrations: MigrationList = {
  '0001_alerts': {
    async up(db) {
      // Incidents: alerts grouped by key, with their notification and escalation schedule.
      await withAutoId(db, db.schema.createTable('alerts_incident'))
        .addColumn('group_key', 'varchar(500)', (c) => c.notNull())
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('severity', 'varchar(10)', (c) => c.notNull())
        .addColumn('status', 'varchar(12)', (c) => c.notNull())
        .addColumn('labels', 'text', (c) => c.notNull())
        .addColumn('route', 'text', (c) => c.notNull())
        // The route's groups, joined: new incidents for the same groups share a first notification.
        .addColumn('destination_key', 'varchar(500)', (c) => c.notNull())
        .addColumn('firing', 'integer', (c) => c.notNull())
        .addColumn('total', 'integer', (c) => c.notNull())
        .addColumn('acked_by', 'varchar(100)')
        .addColumn('snoozed_until', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('resolved_at', 'bigint')
        .addColumn('notify_due_at', 'bigint')
        .addColumn('last_notified_at', 'bigint')
        .addColumn('escalation_level', 'integer')
        .addColumn('escalation_round', 'integer')
        .addColumn('escalation_due_at', 'bigint')
        .addColumn('flapping', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema
        .createIndex('alerts_incident_key')
        .on('alerts_incident')
        .columns(['group_key'])
        .execute();
      await db.schema
        .createIndex('alerts_incident_due')
        .on('alerts_incident')
        .columns(['notify_due_at'])
        .execute();
      await db.schema
        .createTable('alerts_alert')
        .addColumn('fingerprint', 'varchar(300)', (c) => c.primaryKey())
        .addColumn('incident_id', 'bigint')
        .addColumn('source', 'varchar(20)', (c) => c.notNull())
        .addColumn('status', 'varchar(10)', (c) => c.notNull())
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('severity', 'varchar(10)', (c) => c.notNull())
        .addColumn('labels', 'text', (c) => c.notNull())
        .addColumn('annotations', 'text', (c) => c.notNull())
        .addColumn('links', 'text', (c) => c.notNull())
        .addColumn('starts_at', 'bigint', (c) => c.notNull())
        .addColumn('ends_at', 'bigint')
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        // State changes within the flapping window, and when that window began.
        .addColumn('changes', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('changes_since', 'bigint')
        .execute();
      await db.schema
        .createIndex('alerts_alert_incident')
        .on('alerts_alert')
        .columns(['incident_id'])
        .execute();
      // Everything that happened to an incident, in order.
      await withAutoId(db, db.schema.createTable('alerts_timeline'))
        .addColumn('incident_id', 'bigint', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('actor', 'varchar(100)', (c) => c.notNull())
        .addColumn('kind', 'varchar(30)', (c) => c.notNull())
        .addColumn('detail', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('alerts_timeline_incident')
        .on('alerts_timeline')
        .columns(['incident_id'])
        .execute();
      await withAutoId(db, db.schema.createTable('alerts_silence'))
        .addColumn('matchers', 'text', (c) => c.notNull())
        .addColumn('starts_at', 'bigint', (c) => c.notNull())
        .addColumn('ends_at', 'bigint', (c) => c.notNull())
        .addColumn('created_by', 'varchar(100)', (c) => c.notNull())
        .addColumn('comment', 'text', (c) => c.notNull())
        .execute();
      // Cards sent for an incident, so every copy is updated in place.
      await db.schema
        .createTable('alerts_card')
        .addColumn('incident_id', 'bigint', (c) => c.notNull())
        .addColumn('destination', 'varchar(300)', (c) => c.notNull())
        .addColumn('card_id', 'varchar(200)', (c) => c.notNull())
        .addColumn('sent_at', 'bigint', (c) => c.notNull())
        // One digest card lists several incidents.
        .addPrimaryKeyConstraint('alerts_card_pk', ['card_id', 'incident_id'])
        .execute();
      await db.schema
        .createIndex('alerts_card_incident')
        .on('alerts_card')
        .columns(['incident_id'])
        .execute();
    },
    async down(db) {
      for (const t of ['alerts_card', 'alerts_silence', 'alerts_timeline', 'alerts_alert', 'alerts_incident'])
        await db.schema.dropTable(t).execute();
    },
  },
  '0002_room': {
    async up(db) {
      // The conversation linked to an incident (a war room): its cards link there, and
      // incident commands typed there need no id.
      await db.schema.alterTable('alerts_incident').addColumn('room', 'text').execute();
      await db.schema.alterTable('alerts_incident').addColumn('room_conversation', 'varchar(200)').execute();
      await db.schema
        .createIndex('alerts_incident_room')
        .on('alerts_incident')
        .columns(['room_conversation'])
        .execute();
    },
    async down(db) {
      await db.schema.dropIndex('alerts_incident_room').execute();
      await db.schema.alterTable('alerts_incident').dropColumn('room_conversation').execute();
      await db.schema.alterTable('alerts_incident').dropColumn('room').execute();
    },
  },
  '0003_recount_index': {
    async up(db) {
      // Recounting an incident after each payload reads its alerts' status and severity: from
      // this index alone, not from every alert row (the recount was a single-alert webhook's
      // costliest statement).
      await db.schema
        .createIndex('alerts_alert_incident_state')
        .on('alerts_alert')
        .columns(['incident_id', 'status', 'severity'])
        .execute();
    },
    async down(db) {
      await db.schema.dropIndex('alerts_alert_incident_state').execute();
    },
  },
  '0004_one_incident_index': {
    async up(db) {
      // `alerts_alert_incident_state` begins with incident_id, so it serves every lookup this
      // index did; each alert written updated both (8 of the ~40 pages a commit of eight
      // single-alert payloads wrote, the commit being most of their cost).
      await db.schema.dropIndex('alerts_alert_incident').execute();
    },
    async down(db) {
      await db.schema
        .createIndex('alerts_alert_incident')
        .on('alerts_alert')
        .columns(['incident_id'])
        .execute();
    },
  },
};
