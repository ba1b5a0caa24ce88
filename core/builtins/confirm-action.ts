import type { ActionSpec } from '../decide/actions/action-registry.js';
import type { CommandPipeline } from '../decide/commands/command-pipeline.js';

/** `core.confirm`: the Confirm button of a command that asked before running. */
export function confirmAction(pipeline: CommandPipeline): ActionSpec {
  return {
    name: 'confirm',
    handler: async (ctx) => {
      const outcome = await pipeline.confirm(ctx.params.nonce ?? '', ctx.caller.userId);
      if (outcome === 'expired') return { message: ctx.t('pipeline.confirmExpired') };
      if (outcome === 'notYours') return { message: ctx.t('pipeline.confirmNotYours') };
      return {};
    },
  };
}
