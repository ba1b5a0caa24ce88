import type { DependencyContainer } from 'tsyringe';
import type { z } from 'zod';
import type { AuditLog } from '../decide/audit-log.js';
import { AuditToken } from '../decide/audit-log.js';
import type { HelpBuilder } from '../decide/commands/help.js';
import { HelpToken } from '../decide/commands/help.js';
import type { CommandRegistry } from '../decide/commands/registry.js';
import { CommandsToken } from '../decide/commands/registry.js';
import type { AnyCommandSpec } from '../decide/commands/spec.js';
import type { Diagnostics } from '../diagnostics/diagnostics.js';
import { DiagnosticsToken } from '../diagnostics/diagnostics.js';
import type { GroupRegistry } from '../directory/group-registry.js';
import { GroupsToken } from '../directory/group-registry.js';
import type { StatusBoard } from '../observe/status.js';
import { StatusToken } from '../observe/status.js';
import { definePlugin, type PluginDefinition } from '../plugins/define-plugin.js';
import { auditCommand } from './audit-command.js';
import { doctorCommand } from './doctor-command.js';
import { groupsCommand } from './groups-command.js';
import { helpCommand } from './help-command.js';
import { pingCommand } from './ping-command.js';
import { statusCommand } from './status-command.js';
import { whoamiCommand } from './whoami-command.js';

export const CORE_COMMANDS = ['help', 'ping', 'whoami', 'status', 'audit', 'groups', 'doctor'] as const;

/**
 * The core's own commands as an ordinary plugin (`core`), the way Errbot ships its core
 * plugins: `plugins: { core: { disable: [audit] } }` turns single commands off (another plugin
 * may then register its own `audit`), `core: { enabled: false }` all of them. They reach the
 * runtime's internals through the container the bot gives them, which no other plugin gets.
 */
export function corePlugin(c: DependencyContainer, version: string): PluginDefinition {
  return definePlugin({
    name: 'core',
    description: { en: 'Built-in commands', 'zh-CN': '内置命令' },
    config: (zod: typeof z) =>
      zod.strictObject({
        disable: zod
          .array(zod.enum(CORE_COMMANDS))
          .default([])
          .describe('built-in commands to turn off (a plugin may then register its own of that name)'),
      }),
    setup(ctx) {
      const registry = c.resolve<CommandRegistry>(CommandsToken);
      const commands: Record<(typeof CORE_COMMANDS)[number], () => AnyCommandSpec> = {
        help: () => helpCommand(c.resolve<HelpBuilder>(HelpToken), registry),
        ping: () => pingCommand(),
        whoami: () => whoamiCommand(),
        status: () => statusCommand(c.resolve<StatusBoard>(StatusToken), version),
        audit: () => auditCommand(c.resolve<AuditLog>(AuditToken)),
        groups: () => groupsCommand(c.resolve<GroupRegistry>(GroupsToken), () => ctx.now()),
        doctor: () => doctorCommand(c.resolve<Diagnostics>(DiagnosticsToken)),
      };
      for (const name of CORE_COMMANDS)
        if (!ctx.config.disable.includes(name)) ctx.commands.register(commands[name]());
    },
  });
}
