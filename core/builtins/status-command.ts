import { card } from '../cards/card.js';
import { defineCommand } from '../decide/commands/spec.js';
import type { StatusBoard } from '../observe/status.js';
import { formatDuration } from '../util/duration.js';

export function statusCommand(status: StatusBoard, version: string) {
  return defineCommand({
    name: 'status',
    aliases: ['状态'],
    description: 'builtin.status.description',
    handler: async (ctx) => {
      const items = await status.collect(ctx.locale);
      const bad = items.filter((i) => !i.ok);
      return card({
        title: ctx.t('builtin.status.title', { version }),
        status: bad.some((i) => i.critical) ? 'danger' : bad.length ? 'warning' : 'success',
        fields: [
          { label: ctx.t('builtin.status.uptime'), value: formatDuration(Date.now() - status.startedAt) },
        ],
        sections: [
          { items: items.map((i) => `${i.ok ? '✅' : i.critical ? '❌' : '⚠️'} **${i.name}**: ${i.detail}`) },
        ],
      });
    },
  });
}
