import { card } from '../cards/card.js';
import { defineCommand } from '../decide/commands/spec.js';
import { UserError } from '../decide/commands/user-error.js';
import type { GroupRegistry } from '../directory/group-registry.js';
import { formatDuration } from '../util/duration.js';

/**
 * `groups` (admins): the group chats the bot knows, where it is installed, and which titles
 * of the config each one answers to; `groups bind <title>` in a group makes the title mean
 * that group (an admin vouching for it), `groups unbind <title>` undoes it.
 */
export function groupsCommand(groups: GroupRegistry, now: () => number) {
  const titleArg = {
    name: 'title',
    type: 'string',
    variadic: true,
    description: 'builtin.groups.titleArg',
  } as const;
  return defineCommand({
    name: 'groups',
    aliases: ['群组'],
    description: 'builtin.groups.description',
    roles: ['admin'],
    subcommands: [
      defineCommand({
        name: 'bind',
        description: 'builtin.groups.bindDescription',
        args: [titleArg],
        roles: ['admin'],
        allowIn: ['group'],
        sideEffects: true,
        examples: ['groups bind ops', 'groups bind Night shift'],
        handler: async (ctx) => {
          const title = (ctx.args.title as string[]).join(' ').trim();
          if (!title) throw new UserError('builtin.groups.titleMissing');
          const here = ctx.message.conversation.id;
          const replaced = await groups.bind(title, here, ctx.caller.userId);
          return ctx.t(replaced ? 'builtin.groups.rebound' : 'builtin.groups.bound', {
            title,
            id: here,
            previous: replaced?.openConversationId ?? '',
          });
        },
      }),
      defineCommand({
        name: 'unbind',
        description: 'builtin.groups.unbindDescription',
        args: [titleArg],
        roles: ['admin'],
        sideEffects: true,
        handler: async (ctx) => {
          const title = (ctx.args.title as string[]).join(' ').trim();
          if (!(await groups.bindings.unbind(title)))
            throw new UserError('builtin.groups.notBound', { title });
          return ctx.t('builtin.groups.unbound', { title });
        },
      }),
    ],
    handler: async (ctx) => {
      const list = groups.list();
      const unbound = groups.unboundTitles();
      // The DingTalk FAQ case: the robot only hears groups where the cool app is installed.
      if (!list.length && !unbound.length) return ctx.t('builtin.groups.empty');
      const at = now();
      const titles = (id: string) => groups.bindings.titlesOf(id);
      return card({
        title: ctx.t('builtin.groups.title', {
          installed: list.filter((g) => g.installed).length,
          total: list.length,
        }),
        status: unbound.length ? 'warning' : 'info',
        sections: [
          {
            items: list.map((g) => {
              const bound = titles(g.openConversationId);
              return `${g.installed ? '✅' : '⛔'} **${g.title || ctx.t('builtin.groups.untitled')}** \`${g.openConversationId}\` · ${ctx.t(
                g.disbanded
                  ? 'builtin.groups.disbanded'
                  : g.installed
                    ? 'builtin.groups.installed'
                    : 'builtin.groups.uninstalled',
              )} · ${ctx.t('builtin.groups.lastSeen', { ago: formatDuration(Math.max(0, at - g.lastSeenAt)) })}${
                bound.length ? ` · ${ctx.t('builtin.groups.boundAs', { titles: bound.join(', ') })}` : ''
              }`;
            }),
          },
          ...(unbound.length
            ? [
                {
                  title: ctx.t('builtin.groups.unboundTitle'),
                  items: unbound.map((t) => ctx.t('builtin.groups.unboundItem', { title: t })),
                },
              ]
            : []),
        ],
      });
    },
  });
}
