import type { DependencyContainer } from 'tsyringe';
import type { ActionRegistry } from '../decide/actions/action-registry.js';
import { ActionsToken } from '../decide/actions/action-registry.js';
import type { CommandPipeline } from '../decide/commands/command-pipeline.js';
import { PipelineToken } from '../decide/commands/command-pipeline.js';
import { confirmAction } from './confirm-action.js';

/**
 * The command layer's own card action (the Confirm button of commands that ask first). The
 * built-in commands are a plugin (`corePlugin`), started with the others.
 */
export function registerBuiltins(c: DependencyContainer): void {
  c.resolve<ActionRegistry>(ActionsToken).register(
    'core',
    confirmAction(c.resolve<CommandPipeline>(PipelineToken)),
  );
}
