import { card } from '../cards/card.js';
import type { AuditLog } from '../decide/audit-log.js';
import { defineCommand } from '../decide/commands/spec.js';

export function auditCommand(audit: AuditLog) {
  return defineCommand({
    name: 'audit',
    description: 'builtin.audit.description',
    roles: ['admin'],
    options: [
      { name: 'user', short: 'u', type: 'user', description: 'builtin.audit.user' },
      { name: 'command', short: 'c', type: 'string', description: 'builtin.audit.command' },
      {
        name: 'limit',
        short: 'n',
        type: 'int',
        min: 1,
        max: 100,
        default: 10,
        description: 'builtin.audit.limit',
      },
    ],
    examples: ['audit', 'audit -n 20', 'audit --user @bob', 'audit --command ping'],
    handler: async (ctx) => {
      const rows = await audit.query({
        limit: ctx.args.limit,
        actorId: ctx.args.user,
        command: ctx.args.command,
      });
      if (!rows.length) return ctx.t('builtin.audit.empty');
      return card({
        title: ctx.t('builtin.audit.title', { count: rows.length }),
        status: 'info',
        sections: [
          {
            items: rows.map((r) => {
              // What was typed when known (secrets masked), else the command and its params.
              const what = r.text ?? `${r.command}${r.args ? ` ${JSON.stringify(r.args)}` : ''}`;
              // Outcomes, access reasons and refusals (catalog keys) in the reader's language;
              // other details as recorded.
              const reason = r.detail && `builtin.audit.reason.${r.detail}`;
              const detail =
                reason && ctx.t(reason) !== reason
                  ? ctx.t(reason)
                  : r.detail && /^[a-z]+(\.[a-zA-Z]+)+$/.test(r.detail) && ctx.t(r.detail) !== r.detail
                    ? ctx.t(r.detail).replace(/\{\w+\}/g, '…')
                    : r.detail;
              return `${new Date(r.at).toISOString().replace('T', ' ').slice(0, 19)} **${r.actorNick ?? r.actorId}** \`${what}\` → ${ctx.t(`builtin.audit.outcome.${r.outcome}`)}${detail ? ` (${detail})` : ''}`;
            }),
          },
        ],
      });
    },
  });
}
