import { defineCommand } from '../decide/commands/spec.js';

export function pingCommand() {
  return defineCommand({
    name: 'ping',
    description: 'builtin.ping.description',
    handler: (ctx) => ctx.t('builtin.ping.pong'),
  });
}
