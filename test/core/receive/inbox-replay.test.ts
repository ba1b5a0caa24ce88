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
    await new Inbox(store).accept(`msg:${msg.msgId}`, 'robot', payload);
    await store.close();
    const before = msg.seq;
    await sb.restart();
    const reply = await client.nextReply('ops', { after: before });
    expect(reply).toMatchObject({ content: 'pong', via: 'groupMessages/send' });
    expect(sb.logs.text).toContain('handling messages accepted before the last stop');
    // Handled once: a second restart does not answer it again.
    await sb.bot.stop('again');
    await sb.restart();
    await new Promise((r) => setTimeout(r, 300));
    expect(client.botMessages('ops').filter((m) => m.seq > before)).toHaveLength(1);
  });
});
