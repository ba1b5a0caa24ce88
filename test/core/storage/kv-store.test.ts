import type { Generated, Kysely } from 'kysely';
import { describe, expect, it } from 'vitest';
import { SqlKeyValueStore } from '../../../core/storage/kv-store.js';
import { migrateToLatest } from '../../../core/storage/migrations.js';
import { withAutoId } from '../../../core/storage/schema-helpers.js';
import { testStorageKind, useMigratedStore } from '../../helpers/storage.js';

const useStore = useMigratedStore();

describe(`storage on ${testStorageKind()}`, () => {
  it('opens the dialect the url names', () => {
    expect(useStore().dialect).toBe(testStorageKind());
  });

  it('stores JSON values per plugin, isolated from other plugins', async () => {
    const a = new SqlKeyValueStore(useStore().db, 'a');
    const b = new SqlKeyValueStore(useStore().db, 'b');
    await a.set('k', { n: 1, list: ['告警', '😀'] });
    await b.set('k', 'other');
    expect(await a.get('k')).toEqual({ n: 1, list: ['告警', '😀'] });
    expect(await b.get('k')).toBe('other');
    await a.set('k', 2);
    expect(await a.get('k')).toBe(2);
    expect(await a.delete('k')).toBe(true);
    expect(await a.delete('k')).toBe(false);
    expect(await a.get('k')).toBeUndefined();
  });

  it('writes through the group-committed path when given one', async () => {
    const store = useStore();
    const kv = new SqlKeyValueStore(store.db, 'g', Date.now, store.write);
    await Promise.all([kv.set('a', 1), kv.set('b', 2)]);
    // Concurrent writes to one key have no order on PostgreSQL's pool; this one comes after.
    await kv.set('a', 3);
    expect(await kv.get('a')).toBe(3);
    expect((await kv.list()).map((e) => [e.key, e.value])).toEqual([
      ['a', 3],
      ['b', 2],
    ]);
  });

  it('expires entries by ttl', async () => {
    let now = 1_000_000;
    const kv = new SqlKeyValueStore(useStore().db, 'p', () => now);
    await kv.set('short', 1, { ttlMs: 1000 });
    await kv.set('long', 2);
    now += 999;
    expect(await kv.get('short')).toBe(1);
    now += 2;
    expect(await kv.get('short')).toBeUndefined();
    expect((await kv.list()).map((e) => e.key)).toEqual(['long']);
    // Writing again replaces the expiry too: without a ttl the entry no longer expires.
    await kv.set('long', 3, { ttlMs: 1000 });
    await kv.set('long', 4);
    now += 10_000;
    expect(await kv.get('long')).toBe(4);
  });

  it('lists by exact prefix, also with LIKE wildcards in keys', async () => {
    const kv = new SqlKeyValueStore(useStore().db, 'p');
    await kv.set('a_%1', 1);
    await kv.set('a_%2', 2);
    await kv.set('ab3', 3);
    await kv.set('b', 4);
    expect((await kv.list('a_%')).map((e) => e.key)).toEqual(['a_%1', 'a_%2']);
    expect((await kv.list('a')).length).toBe(3);
  });

  it('runs each owner’s migrations once, in its own table', async () => {
    const ran: string[] = [];
    const migrations = {
      '0001_items': {
        async up(db: Kysely<any>) {
          ran.push('0001');
          await withAutoId(db, db.schema.createTable('demo_items'))
            .addColumn('name', 'varchar(50)', (c) => c.notNull())
            .execute();
        },
      },
    };
    expect(await migrateToLatest(useStore().db, 'demo', migrations)).toEqual(['0001_items']);
    expect(await migrateToLatest(useStore().db, 'demo', migrations)).toEqual([]);
    expect(ran).toEqual(['0001']);
    const inserted = await useStore()
      .db.withTables<{ demo_items: { id: Generated<number>; name: string } }>()
      .insertInto('demo_items')
      .values({ name: 'x' })
      .returning('id')
      .executeTakeFirstOrThrow();
    expect(typeof inserted.id).toBe('number');
    const later = { ...migrations, '0002_more': { up: async () => void ran.push('0002') } };
    expect(await migrateToLatest(useStore().db, 'demo', later)).toEqual(['0002_more']);
  });

  it('reports which migration failed', async () => {
    await expect(
      migrateToLatest(useStore().db, 'bad', {
        '0001_broken': {
          up: async (db) => void (await db.schema.createTable('plugin_kv').addColumn('x', 'text').execute()),
        },
      }),
    ).rejects.toThrow(/migration 0001_broken of bad failed/);
  });
});
