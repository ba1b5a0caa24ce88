import { readFileSync } from 'node:fs';
import { DEFAULT_ORG } from '../../../simulator/org/default-org.js';
import { createSimBot, type SimBot } from '../../helpers/sim-bot.js';

export const NODE = process.execPath;
export const AGENT = new URL('../../fixtures/agents/fake-agent.mjs', import.meta.url).pathname;

/** The default org with a second group, `dev` (`cid-dev`), for what may or may not cross groups. */
export const TWO_GROUPS = {
  ...DEFAULT_ORG,
  groups: [
    ...DEFAULT_ORG.groups,
    {
      openConversationId: 'cid-dev',
      title: 'dev',
      members: ['alice', 'bob', 'carol'],
      coolAppInstalled: true,
    },
  ],
};

/** A bot with the tasks plugin; `tasks` is YAML under `plugins.tasks.tasks` (6-space indent). */
export function tasksBot(tasks: string, extra = '', org?: typeof TWO_GROUPS): Promise<SimBot> {
  return createSimBot({
    sim: org ? { org } : undefined,
    yaml: `people:\n  - { name: Alice, userId: alice }\n  - { name: Bob, userId: bob }\n  - { name: Carol, userId: carol }\nplugins:\n  tasks:\n    updateInterval: 300ms\n${extra}    tasks:\n${tasks}`,
  });
}

/** A node one-liner as a task command (YAML flow list). */
export function nodeCommand(script: string, ...rest: string[]): string {
  return JSON.stringify([NODE, '-e', script, ...rest]);
}

/** The streamed text of a card (what the simulator shows below its fields). */
export function cardText(sb: SimBot, cardId: string): string {
  return sb.sim.client.card(cardId).content;
}

/** Whether a process is still running (a zombie waiting for a reaper is not). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}
