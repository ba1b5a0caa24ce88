import { describe, expect, it } from 'vitest';
import { Inbox } from '../../../core/receive/inbox.js';
import { useMigratedStore } from '../../helpers/storage.js';

const store = useMigratedStore();
const shared = process.env.DINGOPS_TEST_STORAGE === 'postgres';
const STALE = 10_000;

/** A replica's row in the registry, last heard of `ago` ms ago. */
async function replicaRow(id: string, ago: number): Promise<void> {
  const now = Date.now();
  await store()
    .db.insertInto('dingops_replica')
    .values({ id, host: 'h', pid: 1, version: 't', started_at: now - ago, heartbeat_at: now - ago })
    .execute();
}

const inbox = (id: string) => new Inbox(store(), Date.now, { id, staleMs: STALE });
const ids = (entries: { id: string }[]) => entries.map((e) => e.id).sort();

describe('an inbox shared by replicas (PostgreSQL)', () => {
  it('hands out only what dead or departed replicas accepted, each message to one replica', async () => {
    if (!shared) return;
    await replicaRow('alive', 0);
    await replicaRow('dead', 30_000);
    await inbox('alive').accept('msg:1', 'robot', { n: 1 });
    await inbox('dead').accept('msg:2', 'robot', { n: 2 });
    // Accepted by a replica that left (its row is gone): adopted at once.
    await inbox('left').accept('msg:3', 'robot', { n: 3 });
    // The same message on two connections is accepted once, cluster-wide.
    expect(await inbox('dead').accept('msg:1', 'robot', { n: 1 })).toBe(false);
    // A previous version recorded no replica: adopted once it had time to handle it.
    const db = store().db;
    await db
      .insertInto('inbound_seen')
      .values([
        { id: 'msg:old', kind: 'robot', received_at: Date.now() - 2 * STALE, payload: '{"n":4}' },
        { id: 'msg:new', kind: 'robot', received_at: Date.now(), payload: '{"n":5}' },
      ])
      .execute();

    await replicaRow('b', 0);
    await replicaRow('c', 0);
    const [b, c] = await Promise.all([inbox('b').unfinished(), inbox('c').unfinished()]);
    // Disjoint, and together everything adoptable: nothing of the live replica, nothing recent.
    expect(ids([...b, ...c])).toEqual(['msg:2', 'msg:3', 'msg:old']);
    expect(ids(b).filter((id) => ids(c).includes(id))).toEqual([]);
    expect([...b, ...c].find((e) => e.id === 'msg:2')?.payload).toEqual({ n: 2 });
    // Adopted by live replicas: nobody else takes them.
    expect(await inbox('d').unfinished()).toEqual([]);
    const owners = await db
      .selectFrom('inbound_seen')
      .select(['id', 'replica'])
      .where('id', 'in', ['msg:1', 'msg:new'])
      .orderBy('id')
      .execute();
    expect(owners).toEqual([
      { id: 'msg:1', replica: 'alive' },
      { id: 'msg:new', replica: null },
    ]);
  });

  it('never hands out what is handled or dead-lettered', async () => {
    if (!shared) return;
    const gone = inbox('gone');
    await gone.accept('msg:a', 'robot', {});
    await gone.accept('msg:b', 'robot', {});
    await gone.done('msg:a');
    await gone.failed('msg:b', 'unreadable', true);
    expect(await inbox('b').unfinished()).toEqual([]);
  });
});
