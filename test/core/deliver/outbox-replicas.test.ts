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

function replica(name: string, log2: Delivery[], deliver?: (row: OutboxRow) => Promise<void>) {
  const outbox = new Outbox(
    store(),
    async (row) => {
      if (deliver) await deliver(row);
      await new Promise((r) => setTimeout(r, 2));
      log2.push({ replica: name, id: row.id, conversation: row.conversationKey, text: String(row.payload) });
    },
    log,
    undefined,
    { pollMs: 50, leaseMs: 400, retryBaseMs: 20 },
    new SqlLanes(store().db, name, 400),
  );
  return outbox;
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
    const a = replica('a', delivered);
    const b = replica('b', delivered);
    await a.start();
    await b.start();
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
});
