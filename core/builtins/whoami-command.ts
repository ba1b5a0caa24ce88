import { card } from '../cards/card.js';
import { defineCommand } from '../decide/commands/spec.js';

export function whoamiCommand() {
  return defineCommand({
    name: 'whoami',
    description: 'builtin.whoami.description',
    handler: (ctx) => {
      const m = ctx.message;
      const roles = [...ctx.caller.roles].sort();
      return card({
        title: ctx.t('builtin.whoami.title', { nick: ctx.caller.nick }),
        status: 'info',
        fields: [
          {
            label: ctx.t('builtin.whoami.userId'),
            value: ctx.caller.userId || ctx.t('builtin.whoami.noUserId'),
          },
          {
            label: ctx.t('builtin.whoami.roles'),
            value: roles.length ? roles.join(', ') : ctx.t('builtin.whoami.noRoles'),
          },
          {
            label: ctx.t('builtin.whoami.conversation'),
            value: `${m.conversation.id} (${ctx.t(`builtin.whoami.${m.conversation.type}`)}${m.conversation.title ? `, ${m.conversation.title}` : ''})`,
          },
          ...(m.sender.dingtalkId ? [{ label: 'senderId', value: m.sender.dingtalkId }] : []),
        ],
      });
    },
  });
}
