import { afterEach, describe, expect, it } from 'vitest';
import {
  GroupReferenceError,
  type GroupRegistry,
  GroupsToken,
} from '../../../core/directory/group-registry.js';
import { EventsToken } from '../../../core/events/event-bus.js';
import { definePlugin } from '../../../core/plugins/define-plugin.js';
import { persistentTestStorageUrl } from '../../helpers/storage.js';
import { createTestBot, type TestBot } from '../../helpers/test-bot.js';

let tb: TestBot | undefined;
afterEach(async () => {
  await tb?.stop();
  tb = undefined;
});

function event(type: string, data: Record<string, unknown>) {
  return { type, id: `${type}-${Math.random()}`, data, via: 'test' };
}

describe('group registry', () => {
  it('follows install, rename and uninstall events and the groups messages come from', async () => {
    tb = await createTestBot();
    const groups = tb.bot.resolve<GroupRegistry>(GroupsToken);
    const seen: string[] = [];
    const events = tb.bot.resolve(EventsToken);
    for (const e of ['group.installed', 'group.renamed', 'group.uninstalled'] as const)
      events.on(e, (p) => void seen.push(`${e} ${p.openConversationId}`));

    await tb.bot.inbound.event(
      event('im_cool_app_install', { openConversationId: 'cid-a', operator: 'alice' }),
    );
    await tb.bot.inbound.event(
      event('chat_update_title', { openConversationId: 'cid-a', title: 'Payments' }),
    );
    await tb.say('ping', { group: 'cid-b' });
    expect(groups.list()).toEqual([
      expect.objectContaining({ openConversationId: 'cid-b', title: 'cid-b', installed: true }),
      expect.objectContaining({ openConversationId: 'cid-a', title: 'Payments', installed: true }),
    ]);
    await tb.bot.inbound.event(event('im_cool_app_uninstall', { openConversationId: 'cid-a' }));
    expect(groups.get('cid-a')).toMatchObject({ title: 'Payments', installed: false });
    expect(seen).toEqual([
      'group.installed cid-a',
      'group.renamed cid-a',
      'group.installed cid-b',
      'group.uninstalled cid-a',
    ]);
  });

  it('resolves a title only to the group an admin bound it to, through renames, never to another group that takes it', async () => {
    tb = await createTestBot();
    const groups = tb.bot.resolve<GroupRegistry>(GroupsToken);
    for (const [id, title] of [
      ['cid-1', 'ops'],
      ['cid-2', 'dba'],
    ])
      await tb.bot.inbound.event(event('chat_update_title', { openConversationId: id, title }));
    // A title nobody bound means no group, even when one group carries it.
    expect(() => groups.resolve('ops')).toThrow(
      /the group title 'ops' is not bound to a group.*titled so now: cid-1/,
    );
    expect(groups.unboundTitles()).toEqual(['ops']);
    expect(groups.resolve('cid-2')).toBe('cid-2');
    // An id DingTalk has not told us about yet is still usable.
    expect(groups.resolve('cidNewGroup==')).toBe('cidNewGroup==');

    await groups.bind('ops', 'cid-1', 'alice');
    expect(groups.resolve('ops')).toBe('cid-1');
    expect(groups.unboundTitles()).toEqual([]);
    // Its members rename it: still the group meant by 'ops'.
    await tb.bot.inbound.event(
      event('chat_update_title', { openConversationId: 'cid-1', title: 'ops-renamed' }),
    );
    expect(groups.resolve('ops')).toBe('cid-1');
    // Another group takes the title: it gets nothing meant for 'ops', and the admins hear of it once.
    const taken: string[] = [];
    tb.bot
      .resolve(EventsToken)
      .on('group.titleTaken', (e) => void taken.push(`${e.title} ${e.openConversationId} ${e.boundTo}`));
    await tb.bot.inbound.event(event('chat_update_title', { openConversationId: 'cid-2', title: 'ops' }));
    await tb.say('ping', { group: 'cid-2' });
    expect(groups.resolve('ops')).toBe('cid-1');
    expect(taken).toEqual(['ops cid-2 cid-1']);
    expect(() => groups.resolve('opps')).toThrow(/not bound to a group.*did you mean 'ops'/);
  });

  it('keeps bindings across a restart (in the store)', async () => {
    tb = await createTestBot({ storageUrl: persistentTestStorageUrl(), keepStorage: true });
    await tb.bot.inbound.event(event('chat_update_title', { openConversationId: 'cid-k', title: 'Kept' }));
    await tb.bot.resolve<GroupRegistry>(GroupsToken).bind('Kept', 'cid-k', 'alice');
    await tb.bot.stop('test');
    const again = await createTestBot({ storageUrl: tb.storageUrl });
    // The second bot drops the store when it stops.
    tb = again;
    expect(again.bot.resolve<GroupRegistry>(GroupsToken).resolve('Kept')).toBe('cid-k');
  });

  it('lets plugins send to a group by title and reports a bad title as the error it is', async () => {
    const sent: string[] = [];
    const errors: string[] = [];
    const notify = definePlugin({
      name: 'notify',
      setup: (ctx) =>
        ctx.commands.register({
          name: 'notify',
          description: 'send to a group by title',
          args: [{ name: 'group', type: 'string' }],
          handler: async ({ args }) => {
            try {
              const r = await ctx.send.toGroup(args.group, 'hello group');
              sent.push(r.id ?? 'sent');
            } catch (err) {
              errors.push((err as Error).message);
            }
            return 'ok';
          },
        }),
    });
    tb = await createTestBot({ plugins: [notify] });
    await tb.bot.inbound.event(
      event('chat_update_title', { openConversationId: 'cid-n', title: 'Night shift' }),
    );
    // An admin binds the title in the group (the command, as people use it).
    expect(await tb.ask('groups bind Night shift', { group: 'cid-n' })).toMatch(
      /“Night shift” now means this group/,
    );
    await tb.say('notify "Night shift"');
    expect(
      tb.messenger.sent.some((d) => d.to.kind === 'group' && (d.to as any).openConversationId === 'cid-n'),
    ).toBe(true);
    await tb.say('notify Day');
    expect(errors).toEqual([expect.stringMatching(/the group title 'Day' is not bound/)]);
    // Only admins bind, and only in the group meant.
    expect(await tb.ask('groups bind Day', { group: 'cid-n', user: 'bob' })).toMatch(
      /not allowed|permission|admin/i,
    );
    expect(await tb.ask('groups bind Day')).toMatch(/group/i);
  });
});

describe('groups command', () => {
  it('explains an empty registry, then lists groups with their state (admins only)', async () => {
    tb = await createTestBot();
    expect(await tb.ask('groups')).toMatch(/Install the cool app/);
    await tb.bot.inbound.event(event('chat_update_title', { openConversationId: 'cid-x', title: 'Release' }));
    await tb.bot.inbound.event(event('im_cool_app_uninstall', { openConversationId: 'cid-x' }));
    await tb.say('ping', { group: 'cid-y' });
    const list = await tb.ask('groups');
    expect(list).toContain('installed in 1 of 2');
    expect(list).toMatch(/Release.*cid-x.*uninstalled/);
    // Bindings and titles asked for but unbound are shown too.
    await tb.ask('groups bind team-y', { group: 'cid-y' });
    expect(() => tb!.bot.resolve<GroupRegistry>(GroupsToken).resolve('payments')).toThrow(
      GroupReferenceError,
    );
    const again = await tb.ask('groups');
    expect(again).toMatch(/cid-y.*bound as team-y/);
    expect(again).toMatch(/“payments”: an admin says `groups bind payments`/);
    expect(await tb.ask('groups', { user: 'bob' })).toMatch(/not allowed|permission|admin/i);
  });
});
