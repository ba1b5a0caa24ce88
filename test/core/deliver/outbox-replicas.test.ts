import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { Outbox, type OutboxRow } from '../../../core/deliver/outbox.js';
import { SqlLanes } from '../../../core/deliver/outbox-lanes.js';
import { useMigratedStore } from '../../helpers/storage.js';

const store = useMigratedStore();
const log = pino({ level: 'silent' });
const shared = process.env.DINGOPS_TEST_STORAGE === 'postgres';

interface Delivery {
  replica: string;
  id: number;
  conversation: string;
  text: string;
}

function replica(
  name: string,
  log2: Delivery[],
  deliver?: (row: OutboxRow) => Promise<void>,
  options: { concurrency?: number } = {},
) {
  const outbox = new Outbox(
    store(),
    async (row) => {
      if (deliver) await deliver(row);
      await new Promise((r) => setTimeout(r, 2));
      log2.push({ replica: name, id: row.id, conversation: row.conversationKey, text: String(row.payload) });
    },
    log,
    undefined,
    { pollMs: 50, leaseMs: 400, retryBaseMs: 20, ...options },
    new SqlLanes(store().db, name, 400),
  );
  return outbox;
}

/** Replicas a and b, started, both recording into `delivered`. */
async function startedPair(delivered: Delivery[], aOptions: { concurrency?: number } = {}) {
  const a = replica('a', delivered, undefined, aOptions);
  const b = replica('b', delivered);
  await a.start();
  await b.start();
  return [a, b] as const;
}

async function until(check: () => boolean, ms = 8_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('an outbox shared by replicas (PostgreSQL)', () => {
  it('delivers every message once, in order per conversation, whichever replica queued it', async () => {
    if (!shared) return;
    const delivered: Delivery[] = [];
    const [a, b] = await startedPair(delivered);
    const ids: Record<string, number[]> = { 'group:x': [], 'group:y': [] };
    for (let i = 0; i < 30; i++) {
      const conversation = i % 3 === 0 ? 'group:y' : 'group:x';
      const by = i % 2 === 0 ? a : b;
      ids[conversation]?.push(await by.enqueue('send', conversation, `m${i}`));
    }
    await until(() => delivered.length >= 30);
    await new Promise((r) => setTimeout(r, 200));
    await a.stop();
    await b.stop();
    expect(delivered.map((d) => d.id).sort((x, y) => x - y)).toEqual(
      [...(ids['group:x'] ?? []), ...(ids['group:y'] ?? [])].sort((x, y) => x - y),
    );
    for (const c of ['group:x', 'group:y'])
      expect(delivered.filter((d) => d.conversation === c).map((d) => d.id)).toEqual(ids[c]);
    const pending = await store()
      .db.selectFrom('outbox')
      .select('id')
      .where('status', '!=', 'sent')
      .execute();
    expect(pending).toEqual([]);
  });

  it("takes a dead replica's conversation over after its lease, and fences the dead one out", async () => {
    if (!shared) return;
    const delivered: Delivery[] = [];
    let release: () => void = () => undefined;
    const stuck = new Promise<void>((r) => {
      release = r;
    });
    // a hangs in the middle of its first delivery, then "dies" (its timers stop, nothing released).
    const a = replica('a', delivered, () => stuck);
    await a.start();
    const first = await a.enqueue('send', 'group:z', 'first');
    const second = await a.enqueue('send', 'group:z', 'second');
    const timers = a as unknown as { timer: NodeJS.Timeout; renewTimer: NodeJS.Timeout };
    clearInterval(timers.timer);
    clearInterval(timers.renewTimer);
    const b = replica('b', delivered);
    await b.start();
    await until(() => delivered.filter((d) => d.replica === 'b').length === 2);
    expect(delivered.map((d) => [d.replica, d.id])).toEqual([
      ['b', first],
      ['b', second],
    ]);
    // The takeover may have sent the first row twice at DingTalk: counted.
    expect(b.redelivered).toBe(1);
    // The dead one wakes up: its delivery finishes, but it may not mark anything sent.
    release();
    await new Promise((r) => setTimeout(r, 100));
    const rows = await store().db.selectFrom('outbox').select(['id', 'status']).orderBy('id').execute();
    expect(rows.map((r) => r.status)).toEqual(['sent', 'sent']);
    await b.stop();
  });

  it('claims a lane once when a replica queues many messages at once, and counts no takeover', async () => {
    if (!shared) return;
    const delivered: Delivery[] = [];
    const [a, b] = await startedPair(delivered);
    // Ten enqueues in flight at once on a, while b queues into the same conversation.
    const fromA = Promise.all(Array.from({ length: 10 }, (_, i) => a.enqueue('send', 'group:w', `a${i}`)));
    const fromB: number[] = [];
    for (let i = 0; i < 5; i++) fromB.push(await b.enqueue('send', 'group:w', `b${i}`));
    const ids = [...(await fromA), ...fromB].sort((x, y) => x - y);
    await until(() => delivered.length >= 15);
    await new Promise((r) => setTimeout(r, 200));
    expect(delivered.map((d) => d.id)).toEqual(ids);
    // Nobody died: no row was counted as possibly sent twice, and the drained lane is free.
    expect(a.redelivered + b.redelivered).toBe(0);
    const lanes = await store().db.selectFrom('outbox_lane').selectAll().execute();
    expect(lanes).toEqual([]);
    await a.stop();
    await b.stop();
  });

  it("fences by owner as well as generation: a lane released and taken again at generation 1 is not the old holder's", async () => {
    if (!shared) return;
    const a = new SqlLanes(store().db, 'a', 10_000);
    const b = new SqlLanes(store().db, 'b', 10_000);
    const id = Number(
      (
        await store()
          .db.insertInto('outbox')
          .values({
            kind: 'send',
            conversation_key: 'group:v',
            payload: '"x"',
            status: 'pending',
            attempts: 0,
            next_attempt_at: 0,
            created_at: 0,
          })
          .returning('id')
          .executeTakeFirstOrThrow()
      ).id,
    );
    const row = { id, conversationKey: 'group:v', attempts: 0 };
    const first = await a.claim('group:v');
    expect(first).toEqual({ gen: 1, takenOver: false });
    expect(await b.claim('group:v')).toBeUndefined();
    await a.release('group:v', 1);
    expect(await b.claim('group:v')).toEqual({ gen: 1, takenOver: false });
    // a still believes it holds generation 1: it may not mark b's row sent.
    expect(await a.markSent(row, 1, 1)).toBe(false);
    expect(await b.markSent(row, 1, 1)).toBe(true);
  });

  it('delivers what another replica queues into a conversation this one drained while others waited', async () => {
    if (!shared) return;
    const delivered: Delivery[] = [];
    // One conversation at a time on a: the second waits while the first is delivered.
    const [a, b] = await startedPair(delivered, { concurrency: 1 });
    for (let i = 0; i < 8; i++) await a.enqueue('send', 'group:busy', `busy ${i}`);
    await a.enqueue('send', 'group:other', 'other');
    await until(() => delivered.length >= 9);
    // a drained group:busy (eight rows, with group:other waiting); b queues there now.
    const late = await b.enqueue('send', 'group:busy', 'late');
    await until(() => delivered.some((d) => d.id === late), 3_000);
    expect(delivered.filter((d) => d.id === late)).toHaveLength(1);
    await a.stop();
    await b.stop();
  });
});
