import type { HelpBuilder } from '../decide/commands/help.js';
import type { CommandRegistry } from '../decide/commands/registry.js';
import { defineCommand } from '../decide/commands/spec.js';

export function helpCommand(help: HelpBuilder, registry: CommandRegistry) {
  return defineCommand({
    name: 'help',
    aliases: ['帮助', '?'],
    description: 'builtin.help.description',
    args: [{ name: 'topic', type: 'rest', required: false, description: 'builtin.help.topic' }],
    examples: ['help', 'help ping'],
    handler: (ctx) => {
      const topic = ctx.args.topic?.trim();
      if (!topic) return help.overview(ctx.caller, ctx.message.conversation, ctx.locale);
      const node = registry.get(topic);
      if (!node || node.spec.hidden || !help.may(ctx.caller, ctx.message.conversation, node)) {
        const suggestions = registry.suggest(
          topic.split(/\s+/)[0] ?? '',
          help.permitted(ctx.caller, ctx.message.conversation),
        );
        return suggestions.length
          ? ctx.t('pipeline.unknownWithSuggestion', {
              command: topic,
              suggestions: suggestions.map((s) => `\`${s}\``).join(' / '),
            })
          : ctx.t('pipeline.unknown', { command: topic });
      }
      return help.command(node, ctx.caller, ctx.message.conversation, ctx.locale);
    },
  });
}
