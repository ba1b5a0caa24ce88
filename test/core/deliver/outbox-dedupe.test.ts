import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { Outbox, type OutboxRow } from '../../../core/deliver/outbox.js';
import { useMigratedStore } from '../../helpers/storage.js';

const store = useMigratedStore();

describe('idempotent sends in the outbox', () => {
  it('queues a key once: the same send made again is the row already queued, delivered once', async () => {
    const delivered: OutboxRow[] = [];
    const outbox = new Outbox(
      store(),
      async (row) => {
        delivered.push(row);
      },
      pino({ level: 'silent' }),
      undefined,
      { pollMs: 50 },
    );
    await outbox.start();
    const first = await outbox.enqueue('send', 'group:k', 'hello', { dedupeKey: 'msg:1/1' });
    const again = await outbox.enqueue('send', 'group:k', 'hello (again)', { dedupeKey: 'msg:1/1' });
    const other = await outbox.enqueue('send', 'group:k', 'second', { dedupeKey: 'msg:1/2' });
    const unkeyed = [
      await outbox.enqueue('send', 'group:k', 'plain'),
      await outbox.enqueue('send', 'group:k', 'plain'),
    ];
    expect(again).toBe(first);
    expect(new Set([first, other, ...unkeyed]).size).toBe(4);
    for (let t = Date.now(); delivered.length < 4 && Date.now() - t < 5_000; )
      await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 100));
    await outbox.stop();
    expect(delivered.map((r) => r.payload)).toEqual(['hello', 'second', 'plain', 'plain']);
    // Still one row for the key after it was sent: handled again later, nothing is sent.
    const again2 = new Outbox(store(), async (row) => void delivered.push(row), pino({ level: 'silent' }));
    await again2.start();
    expect(await again2.enqueue('send', 'group:k', 'hello (third time)', { dedupeKey: 'msg:1/1' })).toBe(
      first,
    );
    await new Promise((r) => setTimeout(r, 100));
    await again2.stop();
    expect(delivered).toHaveLength(4);
  });
});
