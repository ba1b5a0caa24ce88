import { type Kysely, sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { coreMigrations } from '../../../core/storage/core-migrations.js';
import { type Database, openDatabase } from '../../../core/storage/database.js';
import { type MigrationList, migrateToLatest } from '../../../core/storage/migrations.js';
import { alertsMigrations } from '../../../plugins/alerts/migrations.js';
import { tasksMigrations } from '../../../plugins/tasks/migrations.js';
import { warroomMigrations } from '../../../plugins/warroom/migrations.js';
import { dropTestStorage, testStorageUrl, useMigratedStore } from '../../helpers/storage.js';

/**
 * Rolling upgrades: while one replica runs a new migration, replicas of the previous version
 * go on reading and writing the same tables, and may restart. So every migration only adds:
 * no table or column goes away or changes type, no column becomes required, a column added to
 * an existing table is nullable or has a default (an older insert leaves it out), and a unique
 * index on an existing table covers only columns the same migration added (an older insert
 * cannot break it). Checked here against the real database of the test project, one migration
 * at a time. Migrations before `0006_replicas` (core) came before several replicas were
 * supported and are not held to it.
 */
const owners: { owner: string; list: MigrationList; from: string }[] = [
  { owner: 'core', list: coreMigrations, from: '0006_replicas' },
  { owner: 'alerts', list: alertsMigrations, from: '0002_room' },
  { owner: 'tasks', list: tasksMigrations, from: '0002_replicas' },
  { owner: 'warroom', list: warroomMigrations, from: '0002' },
];

interface Column {
  type: string;
  nullable: boolean;
  hasDefault: boolean;
}
interface Shape {
  columns: Map<string, Column>;
  /** Unique indexes: table and columns. */
  unique: Map<string, { table: string; columns: string[] }>;
}

async function shape(store: Database): Promise<Shape> {
  const db = store.db as unknown as Kysely<unknown>;
  const columns = new Map<string, Column>();
  const unique = new Map<string, { table: string; columns: string[] }>();
  if (store.dialect === 'postgres') {
    const cols = await sql<{ t: string; c: string; type: string; nullable: string; def: string | null }>`
      select table_name as t, column_name as c, data_type as type, is_nullable as nullable, column_default as def
      from information_schema.columns where table_schema = current_schema()`.execute(db);
    for (const r of cols.rows)
      columns.set(`${r.t}.${r.c}`, {
        type: r.type,
        nullable: r.nullable === 'YES',
        hasDefault: r.def !== null,
      });
    const idx = await sql<{ name: string; t: string; def: string }>`
      select indexname as name, tablename as t, indexdef as def from pg_indexes
      where schemaname = current_schema() and indexdef like 'CREATE UNIQUE%'`.execute(db);
    for (const r of idx.rows) {
      const cols =
        /\(([^)]*)\)/
          .exec(r.def)?.[1]
          ?.split(',')
          .map((c) => c.trim().replace(/"/g, '')) ?? [];
      unique.set(r.name, { table: r.t, columns: cols });
    }
  } else {
    const tables = await sql<{ name: string }>`select name from sqlite_master where type = 'table'`.execute(
      db,
    );
    for (const t of tables.rows) {
      const cols = await sql<{
        name: string;
        type: string;
        notnull: number;
        dflt_value: string | null;
        pk: number;
      }>`
        select * from pragma_table_info(${t.name})`.execute(db);
      for (const c of cols.rows)
        columns.set(`${t.name}.${c.name}`, {
          type: c.type.toLowerCase(),
          nullable: c.notnull === 0 && c.pk === 0,
          hasDefault: c.dflt_value !== null,
        });
      const idx = await sql<{
        name: string;
        unique: number;
      }>`select * from pragma_index_list(${t.name})`.execute(db);
      for (const i of idx.rows.filter((x) => x.unique === 1)) {
        const info = await sql<{ name: string }>`select name from pragma_index_info(${i.name})`.execute(db);
        unique.set(i.name, { table: t.name, columns: info.rows.map((x) => x.name) });
      }
    }
  }
  return { columns, unique };
}

/** What a migration did that a replica of the previous version could trip on. */
function breaking(before: Shape, after: Shape): string[] {
  const problems: string[] = [];
  const tablesBefore = new Set([...before.columns.keys()].map((k) => k.split('.')[0]));
  for (const [key, col] of before.columns) {
    const now = after.columns.get(key);
    if (!now) problems.push(`${key} removed`);
    else if (now.type !== col.type) problems.push(`${key} changed type ${col.type} -> ${now.type}`);
    else if (col.nullable && !now.nullable) problems.push(`${key} became required`);
  }
  for (const [key, col] of after.columns) {
    const table = key.split('.')[0] ?? '';
    if (before.columns.has(key) || !tablesBefore.has(table)) continue;
    if (!col.nullable && !col.hasDefault) problems.push(`${key} added as required without a default`);
  }
  for (const [name, idx] of after.unique) {
    if (before.unique.has(name) || !tablesBefore.has(idx.table)) continue;
    const old = idx.columns.filter((c) => before.columns.has(`${idx.table}.${c}`));
    if (old.length) problems.push(`unique index ${name} over existing columns ${old.join(', ')}`);
  }
  return problems;
}

const store = useMigratedStore();
let fresh: Database | undefined;
let freshUrl = '';
afterEach(async () => {
  await fresh?.close();
  fresh = undefined;
  if (freshUrl) await dropTestStorage(freshUrl);
  freshUrl = '';
});

describe('migrations only add (a replica of the previous version keeps working)', () => {
  for (const { owner, list, from } of owners)
    it(`${owner}: each migration from ${from} on`, async () => {
      freshUrl = testStorageUrl();
      fresh = await openDatabase(freshUrl);
      const db = fresh.db as unknown as Kysely<unknown>;
      const names = Object.keys(list).sort();
      const found: string[] = [];
      for (let i = 0; i < names.length; i++) {
        const upTo = Object.fromEntries(names.slice(0, i + 1).map((n) => [n, list[n]])) as MigrationList;
        const before = await shape(fresh);
        await migrateToLatest(db, owner, upTo);
        const after = await shape(fresh);
        if ((names[i] ?? '') >= from) found.push(...breaking(before, after).map((p) => `${names[i]}: ${p}`));
      }
      expect(found).toEqual([]);
    });

  it('catches a migration that would break the previous version', async () => {
    const db = store().db as unknown as Kysely<unknown>;
    const before = await shape(store());
    await migrateToLatest(db, 'probe', {
      '0001': {
        async up(k) {
          await k.schema
            .alterTable('outbox')
            .addColumn('must_have', 'integer', (c) => c.notNull().defaultTo(0))
            .execute();
          await k.schema.alterTable('outbox').dropColumn('last_error').execute();
          await k.schema.createIndex('outbox_kind_unique').on('outbox').column('kind').unique().execute();
          // SQLite refuses this one by itself; PostgreSQL takes it on an empty table.
          if (store().dialect === 'postgres')
            await k.schema
              .alterTable('outbox')
              .addColumn('needed', 'integer', (c) => c.notNull())
              .execute();
        },
      },
    });
    const problems = breaking(before, await shape(store()));
    expect(problems).toEqual(
      expect.arrayContaining([
        'outbox.last_error removed',
        'unique index outbox_kind_unique over existing columns kind',
        ...(store().dialect === 'postgres' ? ['outbox.needed added as required without a default'] : []),
      ]),
    );
    expect(problems.some((p) => p.includes('must_have'))).toBe(false);
  });
});
