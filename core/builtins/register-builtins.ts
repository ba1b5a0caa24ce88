import type { DependencyContainer } from 'tsyringe';
import type { ActionRegistry } from '../actions/action-registry.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { CommandPipeline } from '../commands/command-pipeline.js';
import type { HelpBuilder } from '../commands/help.js';
import type { CommandRegistry } from '../commands/registry.js';
import type { Diagnostics } from '../diagnostics/diagnostics.js';
import type { GroupRegistry } from '../groups/group-registry.js';
import type { StatusBoard } from '../runtime/status.js';
import { TOKENS } from '../tokens.js';
import { auditCommand } from './audit-command.js';
import { confirmAction } from './confirm-action.js';
import { doctorCommand } from './doctor-command.js';
import { groupsCommand } from './groups-command.js';
import { helpCommand } from './help-command.js';
import { pingCommand } from './ping-command.js';
import { statusCommand } from './status-command.js';
import { whoamiCommand } from './whoami-command.js';

/** Registers the core's own commands (owner `core`) and its confirm action. */
export function registerBuiltins(c: DependencyContainer, version: string): void {
  const registry = c.resolve<CommandRegistry>(TOKENS.Commands);
  registry.register(helpCommand(c.resolve<HelpBuilder>(TOKENS.Help), registry), 'core');
  registry.register(pingCommand(), 'core');
  registry.register(whoamiCommand(), 'core');
  registry.register(statusCommand(c.resolve<StatusBoard>(TOKENS.Status), version), 'core');
  registry.register(auditCommand(c.resolve<AuditLog>(TOKENS.Audit)), 'core');
  registry.register(groupsCommand(c.resolve<GroupRegistry>(TOKENS.Groups)), 'core');
  registry.register(doctorCommand(c.resolve<Diagnostics>(TOKENS.Diagnostics)), 'core');
  c.resolve<ActionRegistry>(TOKENS.Actions).register(
    'core',
    confirmAction(c.resolve<CommandPipeline>(TOKENS.Pipeline)),
  );
}
