import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import pg from 'pg';
import { afterEach, beforeEach } from 'vitest';

/** The storage the current test project runs on. */
/**
 * Whether this run is the suite's first (SQLite) pass. A test that never touches the store
 * (the CLI's help, the image's files, timing ratios, the browser page) runs in that pass
 * only: the PostgreSQL pass would repeat it word for word.
 */
export const storeIndependentPass = process.env.DINGOPS_TEST_STORAGE !== 'postgres';

export function testStorageKind(): 'sqlite' | 'postgres' {
  return process.env.DINGOPS_TEST_STORAGE === 'postgres' ? 'postgres' : 'sqlite';
}

/**
 * A fresh, isolated store URL: an in-memory SQLite database, or a new schema on the
 * test PostgreSQL server (dropped by `dropTestStorage`).
 */
export function testStorageUrl(): string {
  if (testStorageKind() === 'sqlite') return 'sqlite::memory:';
  const base = process.env.DINGOPS_TEST_PG_URL;
  if (!base) throw new Error('DINGOPS_TEST_STORAGE=postgres needs DINGOPS_TEST_PG_URL');
  const url = new URL(base);
  url.searchParams.set('schema', `t_${randomBytes(6).toString('hex')}`);
  return url.toString();
}

/** Like `testStorageUrl`, but a SQLite store is a file, so it outlives one bot (restart tests). */
export function persistentTestStorageUrl(): string {
  return testStorageUrl().replace(
    'sqlite::memory:',
    `sqlite:/tmp/dingops-test-${process.pid}-${randomBytes(6).toString('hex')}.db`,
  );
}

export async function dropTestStorage(url: string): Promise<void> {
  if (url.startsWith('sqlite:/tmp/dingops-test-')) {
    const file = url.slice('sqlite:'.length);
    for (const f of [file, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true });
    return;
  }
  if (!url.startsWith('postgres')) return;
  const parsed = new URL(url);
  const schema = parsed.searchParams.get('schema');
  if (!schema) return;
  parsed.searchParams.delete('schema');
  const client = new pg.Client({ connectionString: parsed.toString() });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

/**
 * A fresh, migrated store per test (SQLite or PostgreSQL, per the test project):
 * `const store = useMigratedStore();` then `store().db` inside tests.
 */
export function useMigratedStore(): () => import('../../core/storage/database.js').Database {
  let url = '';
  let db: import('../../core/storage/database.js').Database | undefined;
  beforeEach(async () => {
    const { openDatabase } = await import('../../core/storage/database.js');
    const { migrateToLatest } = await import('../../core/storage/migrations.js');
    const { coreMigrations } = await import('../../core/storage/core-migrations.js');
    url = testStorageUrl();
    db = await openDatabase(url);
    await migrateToLatest(db.db, 'core', coreMigrations);
  });
  afterEach(async () => {
    await db?.close().catch(() => undefined);
    await dropTestStorage(url);
  });
  return () => db!;
}
