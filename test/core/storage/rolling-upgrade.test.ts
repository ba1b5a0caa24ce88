import { afterEach, describe, expect, it } from 'vitest';
import { coreMigrations } from '../../../core/storage/core-migrations.js';
import { openDatabase } from '../../../core/storage/database.js';
import { migrateToLatest } from '../../../core/storage/migrations.js';
import { createSimBot, type SimBot } from '../../helpers/sim-bot.js';
import { dropTestStorage, testStorageUrl } from '../../helpers/storage.js';

let sb: SimBot | undefined;
let url = '';
afterEach(async () => {
  await sb?.stop();
  sb = undefined;
  if (url) await dropTestStorage(url);
  url = '';
});

/** What the next version might add, following the expand-only rule (expand-only.test.ts). */
const nextVersion = {
  ...coreMigrations,
  '9001_next_version': {
    async up(db: import('kysely').Kysely<unknown>) {
      await db.schema
        .createTable('next_thing')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .execute();
      await db.schema.alterTable('outbox').addColumn('next_hint', 'varchar(50)').execute();
    },
  },
};

describe('a rolling upgrade: this version beside the next one, on one database', () => {
  it('keeps answering while the next version migrates, and starts again on the migrated store', async () => {
    sb = await createSimBot();
    const { client } = sb.sim;
    expect((await client.as('bob').ask('ping', { group: 'ops' })).content.toLowerCase()).toContain('pong');
    // The next version's replica starts and migrates the shared store.
    const next = await openDatabase(sb.storageUrl);
    expect(await migrateToLatest(next.db, 'core', nextVersion)).toEqual(['9001_next_version']);
    await next.close();
    expect((await client.as('bob').ask('ping', { group: 'ops' })).content.toLowerCase()).toContain('pong');
    // This version restarts (a crash, a node drain) during the upgrade: it starts, and says why.
    await sb.bot.stop('restart during the upgrade');
    await sb.restart();
    expect((await client.as('carol').ask('ping', { group: 'ops' })).content.toLowerCase()).toContain('pong');
    expect(sb.logs.text).toContain('migrated by a newer version (9001_next_version)');
  });

  it('refuses a store whose migrations are not only newer than its own (another branch, a downgrade past one)', async () => {
    url = testStorageUrl();
    const db = await openDatabase(url);
    try {
      const { '0008_exactly_once': _, ...older } = coreMigrations;
      await migrateToLatest(db.db, 'core', { ...older, '0007_other_branch': { async up() {} } });
      await expect(migrateToLatest(db.db, 'core', coreMigrations)).rejects.toThrow(
        /not this version's, and not only newer ones/,
      );
    } finally {
      await db.close();
    }
  });
});
