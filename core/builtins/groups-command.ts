import { card } from '../cards/card.js';
import { defineCommand } from '../decide/commands/spec.js';
import type { GroupRegistry } from '../directory/group-registry.js';
import { formatDuration } from '../util/duration.js';

/** `groups` (admins): the group chats the bot knows and whether the app is installed there. */
export function groupsCommand(groups: GroupRegistry) {
  return defineCommand({
    name: 'groups',
    aliases: ['群组'],
    description: 'builtin.groups.description',
    roles: ['admin'],
    handler: async (ctx) => {
      const list = groups.list();
      // The DingTalk FAQ case: the robot only hears groups where the cool app is installed.
      if (!list.length) return ctx.t('builtin.groups.empty');
      const now = Date.now();
      return card({
        title: ctx.t('builtin.groups.title', {
          installed: list.filter((g) => g.installed).length,
          total: list.length,
        }),
        status: 'info',
        sections: [
          {
            items: list.map(
              (g) =>
                `${g.installed ? '✅' : '⛔'} **${g.title || ctx.t('builtin.groups.untitled')}** \`${g.openConversationId}\` · ${ctx.t(
                  g.installed ? 'builtin.groups.installed' : 'builtin.groups.uninstalled',
                )} · ${ctx.t('builtin.groups.lastSeen', { ago: formatDuration(Math.max(0, now - g.lastSeenAt)) })}`,
            ),
          },
        ],
      });
    },
  });
}
