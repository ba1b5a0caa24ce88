import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ReplicaRegistry, StoreInUseError } from '../../../core/cluster/replica-registry.js';
import { coreMigrations } from '../../../core/storage/core-migrations.js';
import { type Database, openDatabase } from '../../../core/storage/database.js';
import { migrateToLatest } from '../../../core/storage/migrations.js';
import { useMigratedStore } from '../../helpers/storage.js';

const log = pino({ level: 'silent' });
const opened: Database[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const db of opened.splice(0)) await db.close().catch(() => undefined);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function sqliteFile(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'dingops-replicas-'));
  dirs.push(dir);
  return `sqlite:${join(dir, 'bot.db')}`;
}

async function open(url: string): Promise<Database> {
  const db = await openDatabase(url);
  await migrateToLatest(db.db, 'core', coreMigrations);
  opened.push(db);
  return db;
}

describe('replicas on SQLite', () => {
  it('refuses a second process on the same file, naming the one that has it', async () => {
    if (process.env.DINGOPS_TEST_STORAGE === 'postgres') return;
    const url = await sqliteFile();
    const first = new ReplicaRegistry(await open(url), log, {
      version: 't',
      host: 'node-a',
      pid: process.pid,
    });
    await first.join();
    // Another process (another pid on another host) on the same file.
    const second = new ReplicaRegistry(await open(url), log, { version: 't', host: 'node-b', pid: 4242 });
    const refused = await second.join().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(refused).toBeInstanceOf(StoreInUseError);
    expect(String(refused)).toContain(`pid ${process.pid} on node-a`);
    expect(String(refused)).toContain('use PostgreSQL');
    await first.leave();
    // Once the first has left (an orderly stop), the file is free.
    await second.join();
    expect(second.live().map((r) => r.id)).toEqual([second.id]);
    await second.leave();
  });

  it('takes over from a crashed process of this host at once (its pid no longer exists)', async () => {
    if (process.env.DINGOPS_TEST_STORAGE === 'postgres') return;
    const url = await sqliteFile();
    const { spawnSync } = await import('node:child_process');
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
      encoding: 'utf8',
    });
    const deadPid = Number(gone.stdout);
    const crashed = new ReplicaRegistry(await open(url), log, { version: 't', host: 'here', pid: deadPid });
    await crashed.join();
    // It never said goodbye (SIGKILL): its heartbeat is fresh, its process is not.
    const next = new ReplicaRegistry(await open(url), log, {
      version: 't',
      host: 'here',
      pid: process.pid + 1,
    });
    await next.join();
    expect(next.live().map((r) => r.id)).toEqual([next.id]);
    await next.leave();
  });
});

describe('replicas sharing a store', () => {
  const store = useMigratedStore();
  it('see each other while they beat, and one fewer when one stops beating', async () => {
    if (process.env.DINGOPS_TEST_STORAGE !== 'postgres') return;
    const db = store();
    let now = 1_000_000;
    const clock = () => now;
    const a = new ReplicaRegistry(db, log, { version: 't', host: 'a', pid: 1, clock, heartbeatMs: 60_000 });
    const b = new ReplicaRegistry(db, log, { version: 't', host: 'b', pid: 2, clock, heartbeatMs: 60_000 });
    await a.join();
    await b.join();
    expect(
      b
        .live()
        .map((r) => r.id)
        .sort(),
    ).toEqual([a.id, b.id].sort());
    const beat = (r: ReplicaRegistry) => (r as unknown as { beat(): Promise<void> }).beat();
    await beat(a);
    expect(
      a
        .live()
        .map((r) => r.id)
        .sort(),
    ).toEqual([a.id, b.id].sort());
    expect(await a.isAliveNow(b.id)).toBe(true);
    // b goes silent; a beats on past the stale time.
    now += 11_000;
    await beat(a);
    expect(a.live().map((r) => r.id)).toEqual([a.id]);
    expect(await a.isAliveNow(b.id)).toBe(false);
    await a.leave();
    await b.leave();
  });
});
