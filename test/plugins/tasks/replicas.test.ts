import { describe, expect, it } from 'vitest';
import { ReplicasToken } from '../../../core/cluster/replica-registry.js';
import type { InboundMessage } from '../../../core/messages/inbound.js';
import type { Bot } from '../../../core/runtime/bot.js';
import { DatabaseToken } from '../../../core/storage/database.js';
import type { RunningSimulator } from '../../../simulator/index.js';
import { useReplicas } from '../../helpers/replicas.js';
import { nodeCommand } from './helpers.js';

const shared = process.env.DINGOPS_TEST_STORAGE === 'postgres';
const replicas = useReplicas();

const LONG = `plugins:\n  tasks:\n    updateInterval: 300ms\n    tasks:\n      long:\n        command: ${nodeCommand('console.log("working"); setTimeout(() => {}, 60000)')}\n        allow: { roles: [oncall] }\n`;

/** What bob typing `text` in ops looks like to a replica DingTalk did not pick. */
function typed(s: RunningSimulator, text: string): InboundMessage {
  const ops = s.state.org.groups.find((g) => g.title === 'ops');
  return {
    id: `m-${Date.now()}`,
    conversation: { id: ops?.openConversationId ?? '', type: 'group', title: 'ops' },
    sender: { userId: 'bob', nick: 'Bob', isAdmin: false },
    text,
    msgType: 'text',
    mentions: [],
    receivedAt: Date.now(),
    reply: {},
    via: 'test',
  };
}

describe('tasks on several replicas', () => {
  it('a cancel typed on another replica reaches the one running the task', async () => {
    if (!shared) return;
    const { sim: s, bots } = await replicas(2, { config: LONG });
    await s.client.as('bob').ask('run long', { group: 'ops' });
    const db = (bots[0] as Bot).resolve(DatabaseToken).db.withTables<{
      tasks_run: { id: number; status: string; replica: string | null };
      dingops_replica: { id: string };
    }>();
    const runOf = () => db.selectFrom('tasks_run').select(['id', 'status', 'replica']).executeTakeFirst();
    const started = await runOf();
    expect(started?.status).toBe('running');
    // The replica that does not run it gets the cancel.
    const owner = started?.replica;
    const others = bots.filter((b) => b.resolve(ReplicasToken).id !== owner);
    expect(others).toHaveLength(1);
    await others[0]?.inbound.message(typed(s, 'task cancel 1'));
    const asked = Date.now();
    while ((await runOf())?.status === 'running' && Date.now() - asked < 5_000)
      await new Promise((r) => setTimeout(r, 100));
    // Picked up by the owner within its one-second look, and ended as a cancel (not "interrupted").
    expect((await runOf())?.status).toBe('cancelled');
    expect(Date.now() - asked).toBeLessThan(3_000);
  });
});
