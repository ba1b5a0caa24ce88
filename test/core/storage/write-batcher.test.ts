import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { WriteBatcher } from '../../../core/storage/write-batcher.js';

function setup() {
  const sqlite = new SQLite(':memory:');
  sqlite.exec('create table t (id integer primary key, v text not null unique)');
  const db = new Kysely<any>({ dialect: new SqliteDialect({ database: sqlite }) });
  let commits = 0;
  const exec = sqlite.exec.bind(sqlite);
  const transaction = sqlite.transaction.bind(sqlite);
  sqlite.transaction = ((fn: (...a: unknown[]) => unknown) => {
    const tx = transaction(fn);
    return ((...a: unknown[]) => {
      const r = tx(...a);
      commits++;
      return r;
    }) as never;
  }) as typeof sqlite.transaction;
  void exec;
  return { sqlite, db, batcher: new WriteBatcher(sqlite), commits: () => commits };
}

describe('WriteBatcher', () => {
  it('commits writes queued in one turn together, in order, returning rows', async () => {
    const { db, batcher, commits, sqlite } = setup();
    const results = await Promise.all(
      ['a', 'b', 'c'].map((v) =>
        batcher.write(sql`insert into t (v) values (${v}) returning id`.compile(db)),
      ),
    );
    expect(results.map((r) => r.rows[0]!.id)).toEqual([1, 2, 3]);
    expect(commits()).toBe(1);
    expect(sqlite.prepare('select v from t order by id').all()).toEqual([{ v: 'a' }, { v: 'b' }, { v: 'c' }]);
  });

  it('fails only the bad write of a batch', async () => {
    const { db, batcher, sqlite } = setup();
    const outcomes = await Promise.allSettled(
      ['x', 'x', 'y'].map((v) => batcher.write(sql`insert into t (v) values (${v})`.compile(db))),
    );
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(sqlite.prepare('select v from t order by id').all()).toEqual([{ v: 'x' }, { v: 'y' }]);
  });

  it('waits for an open transaction instead of joining it', async () => {
    const { db, batcher, sqlite } = setup();
    sqlite.exec('begin');
    const pending = batcher.write(sql`insert into t (v) values ('late')`.compile(db));
    await new Promise((r) => setTimeout(r, 20));
    sqlite.exec('rollback');
    await pending;
    expect(sqlite.prepare('select v from t').all()).toEqual([{ v: 'late' }]);
  });
});
