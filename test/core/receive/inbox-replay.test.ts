import { resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Inbox } from '../../../core/receive/inbox.js';
import { openDatabase } from '../../../core/storage/database.js';
import { createSimBot, type SimBot } from '../../helpers/sim-bot.js';

let sb: SimBot | undefined;
afterEach(async () => sb?.stop());

describe('messages accepted before a crash', () => {
  it('are handled after the restart (acknowledged to DingTalk, so never pushed again)', async () => {
    sb = await createSimBot({ sim: { sessionWebhookTtlMs: 1000 } });
    const { client, state } = sb.sim;
    await sb.bot.stop('simulated crash');
    // What the crashed bot had stored and acknowledged, but not yet handled.
    const msg = state.addMessage({
      conversation: 'cid-ops',
      sender: 'bob',
      kind: 'text',
      content: 'ping',
      buttons: [],
      atUserIds: [],
      via: 'user',
    });
    const payload = client.api.robotPayload(msg.msgId);
    const store = await openDatabase(sb.storageUrl);
    // Accepted by the crashed process (on PostgreSQL, a replica that is no longer alive).
    await new Inbox(store, Date.now, { id: 'crashed', staleMs: 10_000 }).accept(
      `msg:${msg.msgId}`,
      'robot',
      payload,
    );
    await store.close();
    const before = msg.seq;
    await sb.restart();
    const reply = await client.nextReply('ops', { after: before });
    expect(reply).toMatchObject({ content: 'pong', via: 'groupMessages/send' });
    expect(sb.logs.text).toMatch(
      /handling messages accepted (before the last stop|by a replica that stopped before handling them)/,
    );
    // Handled once: a second restart does not answer it again.
    await sb.bot.stop('again');
    await sb.restart();
    await new Promise((r) => setTimeout(r, 300));
    expect(client.botMessages('ops').filter((m) => m.seq > before)).toHaveLength(1);
  });

  it('queue no reply twice when handled again (the first handling queued them, then the process died)', async () => {
    sb = await createSimBot({
      sim: { sessionWebhookTtlMs: 1000 },
      yaml: `plugins:\n  burst:\n    from: ${resolve('test/fixtures/plugins/burst')}\n`,
    });
    const { client } = sb.sim;
    const before = client.cursor();
    const sent = await client.as('bob').say('burst 3 x', { group: 'ops' });
    const replies = () =>
      client
        .botMessages('ops')
        .filter((m) => m.seq > before)
        .map((m) => m.content);
    await client.until(() => replies().length >= 3 || undefined, 5_000, 'three replies');
    // As if the process died after queueing the replies but before marking the message handled.
    await sb.bot.stop('simulated crash');
    const store = await openDatabase(sb.storageUrl);
    await store.db
      .updateTable('inbound_seen')
      .set({ done: 0, payload: JSON.stringify(client.api.robotPayload(sent.msgId)), replica: 'crashed' })
      .where('id', '=', `msg:${sent.msgId}`)
      .execute();
    await store.close();
    await sb.restart();
    // Handled again (the log says so), and still three replies, once each.
    await client.until(
      () => (/handling messages accepted/.test(sb?.logs.text ?? '') ? true : undefined),
      5_000,
      'the replay',
    );
    await new Promise((r) => setTimeout(r, 500));
    expect(replies()).toEqual(['x reply 1', 'x reply 2', 'x reply 3']);
  });
});
