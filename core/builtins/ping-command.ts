import { defineCommand } from '../commands/spec.js';

export function pingCommand() {
  return defineCommand({
    name: 'ping',
    description: 'builtin.ping.description',
    handler: (ctx) => ctx.t('builtin.ping.pong'),
  });
}
