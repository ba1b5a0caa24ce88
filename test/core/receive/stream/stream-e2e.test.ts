import { afterEach, describe, expect, it } from 'vitest';
import { definePlugin } from '../../../../core/plugins/define-plugin.js';
import hello from '../../../../plugins/hello/index.js';

const burst = definePlugin({
  name: 'burst',
  setup: (ctx) =>
    ctx.commands.register({
      name: 'burst',
      description: 'replies n times, in order',
      args: [{ name: 'n', type: 'int', min: 1, max: 20 }],
      handler: async ({ args, reply }) => {
        for (let i = 1; i <= args.n; i++) await reply(`reply ${i}`);
      },
    }),
});

import { StatusToken } from '../../../../core/observe/status.js';
import { createSimBot, type SimBot } from '../../../helpers/sim-bot.js';

let sb: SimBot | undefined;
afterEach(async () => {
  await sb?.stop();
  sb = undefined;
});

describe('Stream mode through the real SDK and the simulator', () => {
  it('answers a group @mention and a direct message, through the sessionWebhook', async () => {
    sb = await createSimBot();
    const { client } = sb.sim;
    const inGroup = await client.as('bob').ask('ping', { group: 'ops' });
    expect(inGroup).toMatchObject({
      conversation: 'cid-ops',
      sender: 'bot',
      kind: 'text',
      content: 'pong',
      via: 'sessionWebhook',
    });
    const dm = await client.as('carol').ask('whoami');
    expect(dm.conversation).toBe('cid-dm-carol');
    expect(dm.content).toContain('**userId**: carol');
    const metrics = (await sb.bot.http.inject({ url: '/metrics' })).body;
    expect(metrics).toContain('dingops_transport_connected{transport="stream"} 1');
    expect((await sb.bot.http.inject({ url: '/readyz' })).statusCode).toBe(200);
  });

  it('ignores group messages that do not @mention the bot', async () => {
    sb = await createSimBot();
    const r = await sb.sim.client.as('bob').say('ping', { group: 'ops', atBot: false });
    expect(r.delivered).toBe(false);
    await new Promise((res) => setTimeout(res, 200));
    expect(sb.sim.client.botMessages('ops')).toEqual([]);
  });

  it('round-trips a card button click to an updated card', async () => {
    sb = await createSimBot({ plugins: [hello] });
    const { client } = sb.sim;
    const card = await client.as('bob').ask('hello team', { group: 'ops' });
    expect(card.kind).toBe('card');
    expect(card.via).toBe('card');
    expect(card.title).toBe('Hello, team!');
    const button = card.buttons.find((b) => b.text === 'Wave back')!;
    expect(button.params).toMatchObject({ action: 'hello.wave', name: 'team' });
    const after = await client.as('carol').click(card, button.params!);
    expect(after.responded).toBe(true);
    expect(after.content).toContain('Waves: 1');
    const again = await client.as('alice').click(card, button.params!);
    expect(again.content).toContain('Waves: 2');
  });

  it('falls back to the OpenAPI when the sessionWebhook has expired', async () => {
    // DingTalk's webhooks last ~90 min; here they expire before the bot's safety margin.
    sb = await createSimBot({ sim: { sessionWebhookTtlMs: 30_000 } });
    const reply = await sb.sim.client.as('bob').ask('ping', { group: 'ops' });
    expect(reply).toMatchObject({ content: 'pong', via: 'groupMessages/send' });
    const dm = await sb.sim.client.as('bob').ask('ping');
    expect(dm).toMatchObject({ conversation: 'cid-dm-bob', content: 'pong', via: 'oToMessages/batchSend' });
  });

  it('handles a message pushed twice only once', async () => {
    sb = await createSimBot();
    const { client, state } = sb.sim;
    const before = client.cursor();
    await client.as('bob').say('ping', { group: 'ops' });
    await client.nextReply('ops', { after: before });
    // DingTalk re-pushes: the same message arrives again, here on purpose.
    const original = state.messages.find((m) => m.seq > before && m.sender === 'bob')!;
    expect(await client.api.repush(original.msgId)).toEqual({ acked: true });
    await new Promise((r) => setTimeout(r, 300));
    expect(
      client
        .botMessages('ops')
        .filter((m) => m.seq > before)
        .map((m) => m.content),
    ).toEqual(['pong']);
  });

  it('reconnects after a disconnect frame and after a dropped socket', async () => {
    sb = await createSimBot();
    const { client, server } = sb.sim;
    server.gateway.disconnectAll();
    await client
      .until(() => server.gateway.connections.size === 0 || undefined, 3000, 'the old connection to close')
      .catch(() => undefined);
    await client.until(() => server.gateway.connections.size > 0, 10_000, 'reconnection after disconnect');
    expect((await client.as('bob').ask('ping', { group: 'ops' })).content).toBe('pong');
    server.gateway.dropAll();
    await client.until(
      () =>
        server.gateway.connections.size > 0 &&
        [...server.gateway.connections].every((c) => c.socket.readyState === 1),
      10_000,
      'reconnection after a drop',
    );
    expect((await client.as('bob').ask('ping', { group: 'ops' })).content).toBe('pong');
    expect(sb.logs.text).toContain('server sent disconnect');
  });

  it('absorbs throttling and 5xx in the outbox, delivering everything in order', async () => {
    sb = await createSimBot({ sim: { sessionWebhookTtlMs: 1000 }, plugins: [burst] });
    const { client, state } = sb.sim;
    client.api.setFaults({ throttleNext: 3, failNext: 2, pathFilter: 'groupMessages' });
    const before = client.cursor();
    await client.as('bob').say('burst 6', { group: 'ops' });
    await client.until(
      () => client.botMessages('ops').filter((m) => m.seq > before).length >= 6 || undefined,
      15_000,
      'six replies',
    );
    const replies = client
      .botMessages('ops')
      .filter((m) => m.seq > before)
      .map((m) => m.content);
    expect(replies).toEqual(['1', '2', '3', '4', '5', '6'].map((n) => `reply ${n}`));
    const statuses = state.calls.filter((c) => c.path.endsWith('groupMessages/send')).map((c) => c.status);
    expect(statuses.filter((s) => s === 403)).toHaveLength(3);
    expect(statuses.filter((s) => s === 500)).toHaveLength(2);
    expect(statuses.filter((s) => s === 200)).toHaveLength(6);
  });

  it('reports a missing permission scope by name', async () => {
    sb = await createSimBot({ sim: { sessionWebhookTtlMs: 1000 } });
    const { client } = sb.sim;
    await client.api.updateApp('dingops-demo', { scopes: ['Card.Instance.Write'] });
    await client.as('bob').say('ping', { group: 'ops' });
    await client.until(() => sb!.logs.text.includes('dead-lettered') || undefined, 5000, 'the dead letter');
    expect(sb.logs.text).toContain('Forbidden.AccessDenied.AccessTokenPermissionDenied');
    const status = await sb.bot.container.resolve(StatusToken).collect();
    expect(status.find((s) => s.name === 'outbox')!.detail).toMatch(/1 dead-lettered/);
  });

  it('says once, at error level, that DingTalk refuses the app, and /readyz names it while it lasts', async () => {
    sb = await createSimBot();
    const { client } = sb.sim;
    // The app is unpublished in the console: the gateway refuses every new connection.
    await client.api.updateApp('dingops-demo', { published: false });
    client.api.stream('drop');
    const refused = () =>
      sb!.sim.state.calls.filter((c) => c.path === '/v1.0/gateway/connections/open' && c.status >= 400)
        .length;
    await client.until(() => refused() >= 3, 20_000, 'three refused attempts');
    const refusals = sb.logs.lines.filter((l) => l.includes('DingTalk refuses the app'));
    expect(refusals).toHaveLength(1);
    expect(refusals[0]).toContain('"level":50');
    const ready = await sb.bot.http.inject({ url: '/readyz' });
    expect(ready.statusCode).toBe(503);
    expect(JSON.stringify(ready.json())).toMatch(/gateway 4\d\d/);
    // Published again: it connects by itself.
    await client.api.updateApp('dingops-demo', { published: true });
    await client.until(() => client.api.connections() > 0, 70_000, 'the reconnection');
  }, 90_000);
});
