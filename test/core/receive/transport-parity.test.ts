import { afterEach, describe, expect, it } from 'vitest';
import type { GroupRegistry } from '../../../core/directory/group-registry.js';
import { GroupsToken } from '../../../core/directory/group-registry.js';
import { EventsToken } from '../../../core/events/event-bus.js';
import hello from '../../../plugins/hello/index.js';
import { createSimBot, type SimBot } from '../../helpers/sim-bot.js';

let sb: SimBot | undefined;
afterEach(async () => {
  await sb?.stop();
  sb = undefined;
});

const MODES = ['stream', 'http'] as const;

describe.each(MODES)('%s mode', (mode) => {
  it('keeps the group registry from install, rename and uninstall events', async () => {
    sb = await createSimBot({ mode });
    const groups = sb.bot.resolve<GroupRegistry>(GroupsToken);
    const api = sb.sim.client.api;
    const events: string[] = [];
    sb.bot.resolve(EventsToken).on('dingtalk.event', (e: { type: string; via: string }) => {
      events.push(`${e.type} via ${e.via}`);
    });

    expect(await api.groupChange('ops', 'uninstall', { operator: 'alice' })).toMatchObject({ acked: true });
    await sb.sim.client.until(() => groups.get('cid-ops')?.installed === false, 3000, 'the uninstall');
    // The install event carries no title: the bot asks DingTalk for it.
    expect(await api.groupChange('ops', 'install', { operator: 'alice' })).toMatchObject({ acked: true });
    await sb.sim.client.until(() => groups.get('cid-ops')?.installed, 3000, 'the install');
    expect(groups.get('cid-ops')?.title).toBe('ops');
    await api.groupChange('ops', 'rename', { title: '值班 ops', operator: 'bob' });
    await sb.sim.client.until(() => groups.get('cid-ops')?.title === '值班 ops', 3000, 'the rename');
    expect(groups.get('cid-ops')?.title).toBe('值班 ops');
    expect(events).toEqual([
      `im_cool_app_uninstall via ${mode}`,
      `im_cool_app_install via ${mode}`,
      `chat_update_title via ${mode}`,
    ]);
    const list = await sb.sim.client.as('alice').ask('groups');
    expect(list.content).toContain('值班 ops');
  });

  it('gives plugins the same event data as the other mode', async () => {
    sb = await createSimBot({ mode });
    const received: Array<Record<string, unknown>> = [];
    sb.bot.resolve(EventsToken).on('dingtalk.event', (e: { data: Record<string, unknown> }) => {
      received.push(e.data);
    });
    await sb.sim.client.api.groupChange('ops', 'rename', { title: 'renamed', operator: 'bob' });
    await sb.sim.client.until(() => received.length > 0, 3000, 'the event');
    // Business fields only; HTTP's PascalCase meta (EventType, CorpId, ...) is not in `data`.
    expect(Object.keys(received[0]!).sort()).toEqual([
      'chatId',
      'openConversationId',
      'operator',
      'operatorUnionId',
      'timeStamp',
      'title',
    ]);
  });
});

describe('Stream and HTTP mode', () => {
  it('produce the same replies to the same commands', async () => {
    const transcripts: Record<string, string[]> = {};
    for (const mode of MODES) {
      sb = await createSimBot({ mode, plugins: [hello] });
      const c = sb.sim.client;
      const out: string[] = [];
      out.push((await c.as('bob').ask('ping', { group: 'ops' })).content);
      out.push((await c.as('bob').ask('help', { group: 'ops' })).content);
      out.push((await c.as('carol').ask('whoami')).content);
      out.push((await c.as('bob').ask('hello world', { group: 'ops' })).content);
      out.push((await c.as('bob').ask('pnig', { group: 'ops' })).content);
      transcripts[mode] = out;
      await sb.stop();
      sb = undefined;
    }
    expect(transcripts.http).toEqual(transcripts.stream);
    expect(transcripts.stream![0]).toBe('pong');
  });
});
