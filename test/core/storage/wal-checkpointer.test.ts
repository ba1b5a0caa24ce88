import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { openDatabase } from '../../../core/storage/database.js';
import { WalCheckpointer, type WalCheckpointerOptions } from '../../../core/storage/wal-checkpointer.js';

const open: Array<{ sqlite: SQLite.Database; checkpointer: WalCheckpointer }> = [];

function setup(options: WalCheckpointerOptions = {}) {
  const file = join(mkdtempSync(join(tmpdir(), 'dingops-wal-')), 'bot.db');
  const sqlite = new SQLite(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.exec('create table t (id integer primary key, v text not null)');
  const checkpointer = new WalCheckpointer(sqlite, file, { intervalMs: 20, ...options });
  open.push({ sqlite, checkpointer });
  const insert = sqlite.prepare('insert into t (v) values (?)');
  const write = (rows: number, size = 100) =>
    sqlite.transaction(() => {
      for (let i = 0; i < rows; i++) insert.run('x'.repeat(size));
    })();
  return { file, sqlite, checkpointer, write };
}

async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Rows in the database file alone, as if the log were lost: only what was checkpointed. */
function rowsInDatabaseFile(file: string): number {
  const copy = `${file}.copy`;
  copyFileSync(file, copy);
  const db = new SQLite(copy, { readonly: true });
  try {
    const created = db.prepare("select 1 from sqlite_schema where name = 't'").get();
    return created ? (db.prepare('select count(*) n from t').get() as { n: number }).n : 0;
  } finally {
    db.close();
  }
}

afterEach(async () => {
  for (const { sqlite, checkpointer } of open.splice(0)) {
    await checkpointer.close();
    if (sqlite.open) sqlite.close();
  }
});

describe('WalCheckpointer', () => {
  it('copies the log into the database file from its thread, not inside the commits', async () => {
    const { file, sqlite, checkpointer, write } = setup();
    expect(sqlite.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    expect(rowsInDatabaseFile(file)).toBe(0);
    write(500);
    await until(() => checkpointer.running, 'the checkpoint thread to start');
    await until(() => checkpointer.last !== undefined, 'a checkpoint');
    expect(rowsInDatabaseFile(file)).toBe(500);
    expect(checkpointer.last).toMatchObject({ busy: 0 });
    expect(checkpointer.last!.checkpointed).toBe(checkpointer.last!.log);
  });

  it('keeps the log bounded while writes never stop', async () => {
    const { file, write, checkpointer } = setup({ restartFrames: 100 });
    let written = 0;
    let largestLog = 0;
    const started = Date.now();
    // Writes without a pause long enough for a checkpoint to catch up by itself, until the log
    // is seen to stop growing: written grows without end, so with the log bounded the ratio
    // passes 4 sooner or later (later on a busy machine); without restarts the log holds
    // everything and the ratio stays near 1 until the time limit. A condition, not a speed.
    const bounded = () => checkpointer.checkpoints > 3 && written > 4 * largestLog;
    while (!bounded() && Date.now() - started < 30_000) {
      write(20, 1000);
      written += 20 * 1000;
      largestLog = Math.max(largestLog, statSync(`${file}-wal`).size);
      await new Promise((r) => setTimeout(r, 0));
    }
    expect(checkpointer.checkpoints).toBeGreaterThan(3);
    expect(written).toBeGreaterThan(4 * largestLog);
  }, 40_000);

  it('ends its thread after a quiet spell and starts it again on the next writes', async () => {
    const { checkpointer, write } = setup({ idleMs: 100 });
    expect(checkpointer.running).toBe(false);
    write(10);
    await until(() => checkpointer.running, 'the thread to start');
    await until(() => !checkpointer.running, 'the thread to end when idle');
    const before = checkpointer.checkpoints;
    write(10);
    // A checkpoint after the thread ended: a new thread made it (it may be idle and gone again
    // by the time this looks, on a busy machine where it took longer than idleMs to start).
    await until(() => checkpointer.checkpoints > before, 'the thread to come back');
  });

  it("falls back to SQLite's own checkpoints on the main connection when the thread fails", async () => {
    const onFallback = vi.fn();
    const { sqlite, write, checkpointer } = setup({
      driverPath: '/nonexistent/better-sqlite3.js',
      onFallback,
    });
    write(10);
    await until(() => onFallback.mock.calls.length > 0, 'the fallback');
    expect(String(onFallback.mock.calls[0]![0])).toMatch(/Cannot find module/);
    expect(sqlite.pragma('wal_autocheckpoint', { simple: true })).toBe(200);
    expect(checkpointer.running).toBe(false);
    write(10);
    expect((sqlite.prepare('select count(*) n from t').get() as { n: number }).n).toBe(20);
  });

  it('a closed store leaves no log behind and its rows in the database file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dingops-wal-'));
    const file = join(dir, 'bot.db');
    const store = await openDatabase(`sqlite:${file}`);
    await store.db.schema.createTable('t').addColumn('v', 'text').execute();
    await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        store.write(sql`insert into t (v) values (${String(i)})`.compile(store.db)),
      ),
    );
    // Let the checkpointer notice the writes and start its thread, whose connection must close too.
    await new Promise((r) => setTimeout(r, 400));
    await store.close();
    expect(existsSync(`${file}-wal`)).toBe(false);
    expect(rowsInDatabaseFile(file)).toBe(50);
  });

  it('a process that closes its store carries on after the close (the thread does not end it early)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dingops-wal-'));
    const script = join(dir, 'close-then-print.mts');
    writeFileSync(
      script,
      `import { openDatabase } from ${JSON.stringify(resolve('core/storage/database.ts'))};
const store = await openDatabase('sqlite:${join(dir, 'bot.db')}');
await store.db.schema.createTable('t').addColumn('v', 'text').execute();
await store.db.insertInto('t').values({ v: 'x' }).execute();
await new Promise((r) => setTimeout(r, 400));
await store.close();
console.log('after close');
`,
    );
    const out = execFileSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8' });
    expect(out).toContain('after close');
  });
});
