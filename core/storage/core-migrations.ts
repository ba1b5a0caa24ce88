import { sql } from 'kysely';
import { isPostgres } from './database.js';
import type { MigrationList } from './migrations.js';
import { withAutoId } from './schema-helpers.js';

export const coreMigrations: MigrationList = {
  '0001_kv_and_audit': {
    async up(db) {
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
    async down(db) {
      await db.schema.dropTable('audit_segment').execute();
      await db.schema.dropTable('plugin_kv').execute();
    },
  },
  '0002_outbox_and_inbox': {
    async up(db) {
      // Outbound messages, durable until DingTalk accepted them (or they are dead-lettered).
      await withAutoId(db, db.schema.createTable('outbox'))
        .addColumn('kind', 'varchar(20)', (c) => c.notNull())
        .addColumn('conversation_key', 'varchar(300)', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('status', 'varchar(10)', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
        .addColumn('last_error', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('sent_at', 'bigint')
        .addColumn('card_id', 'varchar(200)')
        .execute();
      // No secondary indexes: delivery runs from memory (the table is read once at start-up)
      // and delivered rows are pruned, while every index would cost each of the four writes
      // a message makes.
      // Interactive cards sent, so later updates know where they went and how they look.
      await db.schema
        .createTable('card_instance')
        .addColumn('card_id', 'varchar(200)', (c) => c.primaryKey())
        .addColumn('interactive', 'integer', (c) => c.notNull())
        .addColumn('destination', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      // Inbound messages and events accepted: duplicates and re-pushes are dropped across
      // restarts, and what was accepted but not yet handled is handled after a restart.
      await db.schema
        .createTable('inbound_seen')
        .addColumn('id', 'varchar(300)', (c) => c.primaryKey())
        .addColumn('kind', 'varchar(20)', (c) => c.notNull())
        .addColumn('received_at', 'bigint', (c) => c.notNull())
        // Kept until handled, so a crash between the ACK and the handling loses nothing.
        .addColumn('payload', 'text')
        .addColumn('done', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
    },
    async down(db) {
      await db.schema.dropTable('inbound_seen').execute();
      await db.schema.dropTable('card_instance').execute();
      await db.schema.dropTable('outbox').execute();
    },
  },
  '0003_dingtalk_group': {
    async up(db) {
      // The groups the bot lives in, from install/uninstall/rename events and from messages.
      await db.schema
        .createTable('dingtalk_group')
        .addColumn('open_conversation_id', 'varchar(200)', (c) => c.primaryKey())
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('installed', 'integer', (c) => c.notNull())
        .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
    },
    async down(db) {
      await db.schema.dropTable('dingtalk_group').execute();
    },
  },
  '0004_replay_guard': {
    async up(db) {
      // Signatures of HTTP callbacks and webhooks already used (ReplayGuard), until their window passes.
      await db.schema
        .createTable('replay_guard')
        .addColumn('key', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('fingerprint', 'varchar(64)', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
    },
    async down(db) {
      await db.schema.dropTable('replay_guard').execute();
    },
  },
  '0005_inbound_dead_letter': {
    async up(db) {
      // An accepted message that cannot be handled is tried a few times, then kept with its
      // reason (done = 2) instead of being replayed at every start.
      await db.schema
        .alterTable('inbound_seen')
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.alterTable('inbound_seen').addColumn('error', 'text').execute();
    },
    async down(db) {
      await db.schema.alterTable('inbound_seen').dropColumn('error').execute();
      await db.schema.alterTable('inbound_seen').dropColumn('attempts').execute();
    },
  },
  '0006_replicas': {
    async up(db) {
      // The bot processes sharing this store: one row each, kept fresh by a heartbeat.
      // Additive only (a new table): a replica of the previous version keeps working beside it.
      await db.schema
        .createTable('dingops_replica')
        .addColumn('id', 'varchar(100)', (c) => c.primaryKey())
        .addColumn('host', 'varchar(255)', (c) => c.notNull())
        .addColumn('pid', 'integer', (c) => c.notNull())
        .addColumn('version', 'varchar(50)', (c) => c.notNull())
        .addColumn('started_at', 'bigint', (c) => c.notNull())
        .addColumn('heartbeat_at', 'bigint', (c) => c.notNull())
        .execute();
    },
    async down(db) {
      await db.schema.dropTable('dingops_replica').execute();
    },
  },
  '0007_cluster': {
    async up(db) {
      // Several replicas on PostgreSQL: the QPS log they share, and the month's call count as
      // one number (replicas add what they counted). New tables only: previous versions run on.
      await db.schema
        .createTable('api_call')
        .addColumn('api', 'varchar(200)', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('api_call_api_at').on('api_call').columns(['api', 'at']).execute();
      // One replica delivers a conversation at a time (its lane), under a lease with a
      // generation that fences a replica which lost the lane out of marking rows sent.
      await db.schema
        .createTable('outbox_lane')
        .addColumn('conversation_key', 'varchar(300)', (c) => c.primaryKey())
        .addColumn('owner', 'varchar(100)', (c) => c.notNull())
        .addColumn('lease_until', 'bigint', (c) => c.notNull())
        .addColumn('gen', 'bigint', (c) => c.notNull())
        .execute();
      // A cron run per due time is taken by one replica (node-cron's run coordinator).
      await db.schema
        .createTable('schedule_claim')
        .addColumn('key', 'varchar(300)', (c) => c.primaryKey())
        .addColumn('replica', 'varchar(100)', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('api_usage')
        .addColumn('month', 'varchar(7)', (c) => c.primaryKey())
        .addColumn('used', 'bigint', (c) => c.notNull())
        .addColumn('warned', 'varchar(50)', (c) => c.notNull().defaultTo(''))
        .execute();
    },
    async down(db) {
      await db.schema.dropTable('api_usage').execute();
      await db.schema.dropTable('schedule_claim').execute();
      await db.schema.dropTable('outbox_lane').execute();
      await db.schema.dropTable('api_call').execute();
    },
  },
  '0008_exactly_once': {
    async up(db) {
      // Which replica accepted an inbound message: another one handles it only when that one's
      // heartbeat is stale. Nullable: a previous version inserts without it.
      await db.schema.alterTable('inbound_seen').addColumn('replica', 'varchar(100)').execute();
      // A send's idempotency key (a reply's inbound message and ordinal, a schedule's due
      // time): unique where set, so work done again queues nothing new. Nullable, and the index
      // is partial: a previous version's rows and inserts are untouched.
      await db.schema.alterTable('outbox').addColumn('dedupe_key', 'varchar(300)').execute();
      await db.schema
        .createIndex('outbox_dedupe_key')
        .on('outbox')
        .column('dedupe_key')
        .unique()
        .where(sql.ref('dedupe_key'), 'is not', null)
        .execute();
    },
    async down(db) {
      await db.schema.dropIndex('outbox_dedupe_key').execute();
      await db.schema.alterTable('outbox').dropColumn('dedupe_key').execute();
      await db.schema.alterTable('inbound_seen').dropColumn('replica').execute();
    },
  },
  '0009_group_binding': {
    async up(db) {
      // A group title named in the config, bound by an admin to one openConversationId: the
      // title is a name for that group (through its renames), never for another that takes it.
      await db.schema
        .createTable('group_binding')
        .addColumn('title', 'varchar(200)', (c) => c.primaryKey())
        .addColumn('open_conversation_id', 'varchar(200)', (c) => c.notNull())
        .addColumn('bound_by', 'varchar(100)', (c) => c.notNull())
        .addColumn('bound_at', 'bigint', (c) => c.notNull())
        .execute();
    },
    async down(db) {
      await db.schema.dropTable('group_binding').execute();
    },
  },
};
