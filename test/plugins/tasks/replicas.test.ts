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
function typed(s: RunningSimulator, text: string, id = `m-${Date.now()}-${Math.random()}`): InboundMessage {
  const ops = s.state.org.groups.find((g) => g.title === 'ops');
  return {
    id,
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

type RunRow = { id: number; status: string; replica: string | null };
const runsOf = (bot: Bot) =>
  bot
    .resolve(DatabaseToken)
    .db.withTables<{ tasks_run: RunRow }>()
    .selectFrom('tasks_run')
    .select(['id', 'status', 'replica'])
    .orderBy('id')
    .execute();

describe('task limits on several replicas', () => {
  it('concurrency 1 holds across replicas: a run asked on each at once runs once, the other is told', async () => {
    if (!shared) return;
    const { sim: s, bots } = await replicas(2, { config: LONG });
    const [a, b] = bots as [Bot, Bot];
    await Promise.all([a.inbound.message(typed(s, 'run long')), b.inbound.message(typed(s, 'run long'))]);
    const runs = await runsOf(a);
    expect(runs.filter((r) => r.status === 'running')).toHaveLength(1);
    await s.client.until(
      () =>
        s.client.botMessages('ops').find((m) => /is already running 1 time\(s\), its limit/.test(m.content)),
      5_000,
      'the refusal',
    );
  });

  it('approved requests start within the limit: three approved at once run one at a time', async () => {
    if (!shared) return;
    const approvals = LONG.replace(
      '        allow: { roles: [oncall] }\n',
      '        allow: { roles: [oncall] }\n        approval: { approvers: [alice], expireAfter: 1h }\n',
    );
    const { sim: s, bots } = await replicas(2, { config: approvals });
    const [a, b] = bots as [Bot, Bot];
    for (let i = 0; i < 3; i++) await a.inbound.message(typed(s, 'run long'));
    const approve = (bot: Bot, id: number) =>
      bot.inbound.message({
        ...typed(s, `task approve ${id}`),
        sender: { userId: 'alice', nick: 'Alice', isAdmin: false },
      });
    await Promise.all([approve(a, 1), approve(b, 2), approve(a, 3)]);
    expect((await runsOf(a)).filter((r) => r.status === 'running')).toHaveLength(1);
    // The others stay pending, and say why.
    const pending = await a
      .resolve(DatabaseToken)
      .db.withTables<{ tasks_approval: { id: number; status: string } }>()
      .selectFrom('tasks_approval')
      .select(['id', 'status'])
      .where('status', '=', 'pending')
      .execute();
    expect(pending).toHaveLength(2);
  });

  it('a message handled again (its replica died after starting the run) starts no second run', async () => {
    if (!shared) return;
    const { sim: s, bots } = await replicas(2, {
      config: LONG.replace(
        'allow: { roles: [oncall] }',
        'allow: { roles: [oncall] }\n        concurrency: 5',
      ),
    });
    const [a, b] = bots as [Bot, Bot];
    const message = typed(s, 'run long', 'msg-handled-twice');
    await a.inbound.message(message);
    await b.inbound.message(message);
    expect(await runsOf(a)).toHaveLength(1);
  });
});

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
