import type { DependencyContainer } from 'tsyringe';
import type { ActionRegistry } from '../actions/action-registry.js';
import type { CommandPipeline } from '../commands/command-pipeline.js';
import { TOKENS } from '../tokens.js';
import { confirmAction } from './confirm-action.js';

/**
 * The command layer's own card action (the Confirm button of commands that ask first). The
 * built-in commands are a plugin (`corePlugin`), started with the others.
 */
export function registerBuiltins(c: DependencyContainer): void {
  c.resolve<ActionRegistry>(TOKENS.Actions).register(
    'core',
    confirmAction(c.resolve<CommandPipeline>(TOKENS.Pipeline)),
  );
}
