import { card } from '../cards/card.js';
import { defineCommand } from '../decide/commands/spec.js';
import { checkLine, type Diagnostics } from '../diagnostics/diagnostics.js';

/** `doctor [check...] [--fresh]`: the bot's self-diagnosis, for admins. */
export function doctorCommand(diagnostics: Diagnostics) {
  return defineCommand({
    name: 'doctor',
    aliases: ['诊断'],
    description: 'doctor.cmd',
    roles: ['admin'],
    args: [{ name: 'only', type: 'string', variadic: true, required: false, description: 'doctor.arg.only' }],
    options: [{ name: 'fresh', type: 'boolean', description: 'doctor.arg.fresh' }],
    handler: async (ctx) => {
      const results = await diagnostics.run({
        only: ctx.args.only as string[] | undefined,
        fresh: ctx.args.fresh === true,
        locale: ctx.locale,
      });
      const errors = results.filter((r) => r.severity === 'error').length;
      const warnings = results.filter((r) => r.severity === 'warn').length;
      return card({
        title: ctx.t('doctor.title', { errors, warnings }),
        status: errors ? 'danger' : warnings ? 'warning' : 'success',
        sections: [{ items: results.map((r) => checkLine(r, ctx.t)) }],
        footer: errors || warnings ? undefined : ctx.t('doctor.allGood'),
      });
    },
  });
}
