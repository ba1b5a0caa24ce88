import { afterEach, describe, expect, it } from 'vitest';
import { ReplicasToken } from '../../../core/cluster/replica-registry.js';
import type { AuditLog } from '../../../core/decide/audit-log.js';
import { AuditToken } from '../../../core/decide/audit-log.js';
import { DiagnosticsToken } from '../../../core/diagnostics/diagnostics.js';
import { GroupsToken } from '../../../core/directory/group-registry.js';
import { DatabaseToken } from '../../../core/storage/database.js';
import { startBotOnSimulator } from '../../../testing/index.js';
import type { SimBot } from '../../helpers/sim-bot.js';
import { AGENT, cardText, isRunning, NODE, nodeCommand, TWO_GROUPS, tasksBot } from './helpers.js';

let sb: SimBot | undefined;
afterEach(async () => {
  await sb?.stop();
  sb = undefined;
});

const COUNT = `      count:\n        description: Count to n\n        command: ${nodeCommand('for (let i = 1; i <= Number(process.argv[1]); i++) console.log("n=" + i); process.exit(Number(process.argv[2]))', '{n}', '{code}')}\n        params:\n          n: { type: int, min: 1, max: 100000 }\n          code: { type: int, min: 0, max: 9, default: 0 }\n        allow: { roles: [oncall] }\n`;

function audit(s: SimBot) {
  return s.bot.resolve<AuditLog>(AuditToken).query({ limit: 200 });
}

/** Waits for a run's card to reach a final state and returns its text. */
async function finished(
  s: SimBot,
  cardId: string,
  pattern = /Succeeded|Failed|Timed out|Cancelled|Interrupted/,
) {
  return s.sim.client.until(
    () => pattern.test(cardText(s, cardId)) && cardText(s, cardId),
    8000,
    'the run to end',
  );
}

describe('running tasks', () => {
  it('runs from a group, streams the output to its card and ends with the exit code', async () => {
    sb = await tasksBot(COUNT);
    const runCard = await sb.sim.client.as('bob').ask('run count 3 2', { group: 'ops' });
    expect(runCard.kind).toBe('card');
    expect(runCard.title).toMatch(/count · run #1/);
    const text = await finished(sb, runCard.cardId!);
    expect(text).toContain('Failed (exit 2)');
    expect(text).toContain('n=1\nn=2\nn=3');
    expect(text).toContain('`n=3` `code=2`');
    const shown = await sb.sim.client.as('alice').ask('task 1', { group: 'ops' });
    expect(shown.content).toContain('Failed (exit 2)');
    expect(shown.content).toContain('n=3');
    const entries = await audit(sb);
    expect(
      entries.some(
        (e) => e.kind === 'task' && e.outcome === 'error' && /run #1: failed exit 2/.test(e.detail ?? ''),
      ),
    ).toBe(true);
  });

  it('runs from a direct message too, and lists only what the caller may run', async () => {
    sb = await tasksBot(
      `${COUNT}      secret-thing:\n        command: [${JSON.stringify(NODE)}, '-e', '1']\n`,
    );
    const list = await sb.sim.client.as('bob').ask('tasks');
    expect(list.content).toContain('`run count <n> [code]`');
    expect(list.content).not.toContain('secret-thing');
    const runCard = await sb.sim.client.as('bob').ask('run count 2');
    expect(await finished(sb, runCard.cardId!)).toContain('Succeeded');
    // Nobody named: admins only.
    expect((await sb.sim.client.as('bob').ask('run secret-thing')).content).toMatch(
      /You may not run `secret-thing`/,
    );
    expect((await sb.sim.client.as('alice').ask('tasks')).content).toContain('secret-thing');
  });

  it('coalesces the output of a chatty task: updates stay under the rate, the end is complete', async () => {
    sb = await tasksBot(
      `      chatty:\n        command: ${nodeCommand('let i = 0; const t = setInterval(() => { for (let j = 0; j < 500; j++) console.log("line " + i++); if (i >= 10000) { clearInterval(t); } }, 10)')}\n        allow: { roles: [oncall] }\n`,
    );
    const started = Date.now();
    const runCard = await sb.sim.client.as('bob').ask('run chatty', { group: 'ops' });
    const text = await finished(sb, runCard.cardId!);
    const elapsed = Date.now() - started;
    expect(text).toContain('line 9999');
    const streamed = sb.sim.client.api.calls().calls.filter((c) => c.path === '/v1.0/card/streaming');
    // One update per 300 ms at most, plus the final one.
    expect(streamed.length).toBeGreaterThan(0);
    expect(streamed.length).toBeLessThanOrEqual(Math.ceil(elapsed / 300) + 2);
    const log = await sb.sim.client.as('bob').ask('task log 1', { group: 'ops' });
    expect(log.content).toContain('line 9999');
  });

  it('times out and cancels, killing the process tree', async () => {
    const tree = `const { spawn } = require("node:child_process"); const c = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"], { stdio: "ignore" }); console.log("child " + c.pid); setTimeout(() => {}, 60000)`;
    sb = await tasksBot(
      `      slow:\n        command: ${nodeCommand(tree)}\n        timeout: 800ms\n        allow: { roles: [oncall] }\n      stuck:\n        command: ${nodeCommand(tree)}\n        allow: { roles: [oncall] }\n`,
    );
    const slow = await sb.sim.client.as('bob').ask('run slow', { group: 'ops' });
    const timedOut = await finished(sb, slow.cardId!);
    expect(timedOut).toContain('Timed out after 800ms');
    const stuck = await sb.sim.client.as('bob').ask('run stuck', { group: 'ops' });
    await sb.sim.client.until(() => /child \d+/.test(cardText(sb!, stuck.cardId!)), 5000, 'the child pid');
    const pid = Number(/child (\d+)/.exec(cardText(sb, stuck.cardId!))![1]);
    expect((await sb.sim.client.as('carol').ask('task cancel 2', { group: 'ops' })).content).toBe(
      'Only the person who started run #2 or an admin may cancel it.',
    );
    const cancelButton = sb.sim.client.card(stuck.cardId!).buttons.find((b) => b.text === 'Cancel')!;
    await sb.sim.client.as('bob').click(stuck.cardId!, cancelButton.params!);
    expect(await finished(sb, stuck.cardId!)).toContain('Cancelled');
    await new Promise((r) => setTimeout(r, 200));
    expect(isRunning(pid)).toBe(false);
  });

  it('redacts secrets from what is shown and stored', async () => {
    sb = await tasksBot(
      `      leaky:\n        command: ${nodeCommand('console.log("token=" + process.env.DEPLOY_TOKEN, "key=hunter2-extra-long", "url=https://oapi.dingtalk.com/robot/send?access_token=abcdef0123456789abcdef")')}\n        env:\n          set: { DEPLOY_TOKEN: s3cr3t-deploy-token }\n          secret: [DEPLOY_TOKEN]\n        redact: [hunter2-extra-long]\n        allow: { roles: [oncall] }\n`,
    );
    const runCard = await sb.sim.client.as('bob').ask('run leaky', { group: 'ops' });
    const text = await finished(sb, runCard.cardId!);
    const log = (await sb.sim.client.as('bob').ask('task log 1', { group: 'ops' })).content;
    for (const shown of [text, log]) {
      expect(shown).toContain('token=***');
      expect(shown).not.toContain('s3cr3t-deploy-token');
      expect(shown).not.toContain('hunter2-extra-long');
      expect(shown).not.toContain('abcdef0123456789abcdef');
    }
  });

  it('without the streaming permission, the output arrives as one final message', async () => {
    sb = await tasksBot(COUNT);
    const app = sb.sim.client.state.org.apps[0]!;
    app.scopes = app.scopes.filter((x) => x !== 'Card.Streaming.Write');
    const runCard = await sb.sim.client.as('bob').ask('run count 3', { group: 'ops' });
    await finished(sb, runCard.cardId!, /Succeeded/);
    const message = await sb.sim.client.until(
      () => sb!.sim.client.botMessages('ops').find((m) => m.kind === 'markdown' && m.content.includes('n=3')),
      5000,
      'the output message',
    );
    expect(message.content).toContain('n=1\nn=2\nn=3');
    expect(cardText(sb, runCard.cardId!)).not.toContain('n=1');
  });

  it('marks a run interrupted by a restart and finalizes its card', async () => {
    sb = await tasksBot(
      `      long:\n        command: ${nodeCommand('console.log("working"); setTimeout(() => {}, 60000)')}\n        allow: { roles: [oncall] }\n`,
    );
    const runCard = await sb.sim.client.as('bob').ask('run long', { group: 'ops' });
    await sb.sim.client.until(() => cardText(sb!, runCard.cardId!).includes('working'), 5000, 'output');
    await sb.bot.stop('test');
    await sb.restart();
    const text = await finished(sb, runCard.cardId!);
    expect(text).toContain('Interrupted by a restart of the bot');
    expect(sb.sim.client.card(runCard.cardId!).buttons).toEqual([]);
    expect((await sb.sim.client.as('bob').ask('task 1', { group: 'ops' })).content).toContain('Interrupted');
  });

  it('after a crash (no orderly stop), the run is marked interrupted only once its processes are gone', async () => {
    sb = await tasksBot(
      `      long:\n        command: ${nodeCommand('console.log("working"); setTimeout(() => {}, 60000)')}\n        allow: { roles: [oncall] }\n`,
    );
    const runCard = await sb.sim.client.as('bob').ask('run long', { group: 'ops' });
    await sb.sim.client.until(() => cardText(sb!, runCard.cardId!).includes('working'), 5000, 'output');
    const crashed = sb.bot;
    const db = crashed.resolve(DatabaseToken).db.withTables<{
      tasks_run: { id: number; status: string; pid: number | null };
    }>();
    const row = () => db.selectFrom('tasks_run').select(['status', 'pid']).executeTakeFirstOrThrow();
    const { pid } = await row();
    expect(pid).toBeGreaterThan(0);
    // The process is gone: its heartbeat stops (here it lives on in the test's process).
    await crashed.resolve(ReplicasToken).leave();
    await sb.restart();
    // Its task's processes still run (on this machine): the run is not called interrupted, and
    // nothing could start beside it, until they are gone.
    await new Promise((r) => setTimeout(r, 3500));
    expect((await row()).status).toBe('running');
    // What the supervisor does when a bot dies: the whole group ends. (The "crashed" bot lives
    // on in this test's process and may see the end first: the run ends either way.)
    process.kill(-(pid as number), 'SIGKILL');
    const text = await finished(sb, runCard.cardId!);
    expect(text).toMatch(/Interrupted by a restart of the bot|Failed/);
    expect(text).toContain('working');
    expect(['interrupted', 'failed']).toContain((await row()).status);
    await crashed.stop('test');
  });
});

describe('approval', () => {
  const DEPLOY = `      deploy:\n        command: ${nodeCommand('console.log("deploying " + process.argv[1])', '{env}')}\n        params:\n          env: { type: enum, choices: [staging, prod] }\n        allow: { roles: [oncall], users: [Carol] }\n        approval: { approvers: [Alice, Bob], expireAfter: 1500ms }\n`;

  it('asks the approvers, refuses self-approval and outsiders, runs once on approval', async () => {
    sb = await tasksBot(DEPLOY);
    const asked = await sb.sim.client.as('bob').ask('run deploy prod', { group: 'ops' });
    expect(asked.content).toMatch(
      /Request #1: `deploy` needs approval by @Alice; it runs when one of them approves/,
    );
    const approvalCard = await sb.sim.client.nextReply('dm:alice', { after: 0 });
    expect(approvalCard.title).toBe('Approval needed: deploy');
    expect(sb.sim.client.botMessages('dm:bob')).toHaveLength(0);

    expect((await sb.sim.client.as('bob').ask('task approve 1', { group: 'ops' })).content).toBe(
      'You asked for this run: another approver must approve it.',
    );
    expect((await sb.sim.client.as('carol').ask('task approve 1', { group: 'ops' })).content).toBe(
      'You are not an approver of `deploy`.',
    );
    const approve = approvalCard.buttons.find((b) => b.text === 'Approve')!;
    const after = await sb.sim.client.as('alice').click(approvalCard, approve.params!);
    expect(after.content).toContain('approved · @Alice');
    expect(after.title).toBe('Approved: deploy');
    expect(after.buttons).toEqual([]);
    const runCard = await sb.sim.client.until(
      () => sb!.sim.client.botMessages('ops').find((m) => m.title?.includes('deploy · run #1')),
      5000,
      'the run card in the group',
    );
    const text = await finished(sb, runCard.cardId!);
    expect(text).toContain('deploying prod');
    expect(text).toContain('Approved by');
    expect((await sb.sim.client.as('alice').ask('task approve 1')).content).toBe(
      'Request #1 is already approved by Alice.',
    );
    const denials = (await audit(sb)).filter((e) => e.kind === 'task' && e.outcome === 'denied');
    expect(denials.map((e) => e.detail)).toEqual(
      expect.arrayContaining(['tasks.selfApproval', 'tasks.notApprover', 'tasks.approvalSettled']),
    );
  });

  it('refuses an approval after it expired, and a rejected request never runs', async () => {
    sb = await tasksBot(DEPLOY);
    await sb.sim.client.as('bob').ask('run deploy staging', { group: 'ops' });
    await new Promise((r) => setTimeout(r, 1700));
    expect((await sb.sim.client.as('alice').ask('task approve 1')).content).toBe(
      'Request #1 expired before anyone approved it.',
    );
    await sb.sim.client.as('carol').ask('run deploy staging', { group: 'ops' });
    // The approval card goes to Alice's chat on a lane of its own: it may come after the answer in ops.
    // (The first card now reads "Expired: deploy".)
    await sb.sim.client.until(
      () =>
        sb!.sim.client.botMessages('dm:alice').filter((m) => m.title === 'Approval needed: deploy').length ===
          1 || undefined,
      3000,
      'the second approval card',
    );
    expect(
      sb.sim.client
        .botMessages('dm:alice')
        .filter((m) => m.cardId)
        .map((m) => m.title),
    ).toEqual(['Expired: deploy', 'Approval needed: deploy']);
    const rejected = await sb.sim.client.as('alice').ask('task reject 2');
    expect(rejected.content).toContain('rejected · @Alice');
    // The card Alice was sent says so too, not "approval needed" any more.
    const asked2 = sb.sim.client
      .botMessages('dm:alice')
      .filter((m) => m.cardId)
      .at(-1)!;
    expect(sb.sim.client.card(asked2.cardId!).title).toBe('Rejected: deploy');
    await sb.sim.client.until(
      () => sb!.sim.client.botMessages('ops').some((m) => /was rejected by Alice/.test(m.content)),
      3000,
      'the rejection',
    );
    expect(sb.sim.client.botMessages('ops').some((m) => m.title?.includes('run #'))).toBe(false);
  });
});

describe('approval of what was asked', () => {
  const DEPLOY = `      deploy:\n        command: ${nodeCommand('console.log("deploying " + process.argv[1])', '{env}')}\n        params:\n          env: { type: enum, choices: [staging, prod] }\n        allow: { roles: [oncall], users: [Carol] }\n        approval: { approvers: [Alice, Bob], expireAfter: 1h }\n`;
  const CHANGED = DEPLOY.replace('deploying', 'DROPPING THE DATABASE');

  /** The bot stopped and started again on the same store with another config (an operator's edit). */
  async function restartWith(
    s: SimBot,
    yaml: string,
    access = '',
    carol = '  - { name: Carol, userId: carol }',
  ) {
    await s.bot.stop('test');
    s.bot = await startBotOnSimulator(s.sim, {
      config: `people:\n  - { name: Alice, userId: alice }\n  - { name: Bob, userId: bob }\n${carol}\nplugins:\n  tasks:\n    updateInterval: 300ms\n    tasks:\n${yaml}`,
      access,
      storageUrl: s.storageUrl,
      logs: s.logs,
    });
  }

  it('refuses to approve a request whose task changed since it was asked, telling both, and never runs it', async () => {
    sb = await tasksBot(DEPLOY);
    await sb.sim.client.as('carol').ask('run deploy prod', { group: 'ops' });
    await restartWith(sb, CHANGED);
    const answer = await sb.sim.client.as('alice').ask('task approve 1');
    expect(answer.content).toMatch(/The definition of `deploy` changed after request #1 was made/);
    const told = await sb.sim.client.until(
      () =>
        sb!.sim.client
          .botMessages('ops')
          .find((m) => /Request #1 to run `deploy` was not run/.test(m.content)),
      3000,
      'the requester told',
    );
    expect(told.content).toMatch(/changed after request #1/);
    await new Promise((r) => setTimeout(r, 300));
    expect(sb.sim.client.botMessages('ops').some((m) => m.title?.includes('run #'))).toBe(false);
    expect((await sb.sim.client.as('bob').ask('task approve 1')).content).toMatch(/expired|already/);
  });

  it('refuses to approve a request of someone no longer allowed to run the task', async () => {
    sb = await tasksBot(DEPLOY);
    // Carol may run it by name; then the operator points the name at someone else (the task
    // itself, `users: [Carol]`, is unchanged).
    await sb.sim.client.as('carol').ask('run deploy staging', { group: 'ops' });
    await restartWith(sb, DEPLOY, '', '  - { name: Carol, userId: carol-new }');
    const answer = await sb.sim.client.as('alice').ask('task approve 1');
    expect(answer.content).toMatch(/may no longer run `deploy` there/);
    const denied = (await audit(sb)).filter((e) => e.outcome === 'denied').map((e) => e.detail);
    expect(denied).toContain('tasks.requesterNoLonger');
  });
});

describe('refusals', () => {
  const FILES = `      show-file:\n        command: ${nodeCommand('console.log(process.argv[1])', '{path}')}\n        params:\n          path: { type: string, pattern: '[\\w./-]+' }\n        allow: { roles: [oncall], groups: [ops] }\n      dm-only:\n        command: [${JSON.stringify(NODE)}, '-e', '1']\n        allow: { roles: [oncall], directOnly: true }\n`;

  it('never lets shell syntax, option injection or path traversal through, and says why', async () => {
    sb = await tasksBot(FILES);
    await sb.sim.client.as('alice').ask('groups bind ops', { group: 'ops' });
    for (const evil of ['"$(id)"', '"`id`"', '"a;b"', '"a|b"', '"a b"'])
      expect((await sb.sim.client.as('bob').ask(`run show-file ${evil}`, { group: 'ops' })).content).toMatch(
        /does not match|must match|invalid|pattern/i,
      );
    expect(
      (await sb.sim.client.as('bob').ask('run show-file ../../etc/passwd', { group: 'ops' })).content,
    ).toBe('The value of `path` is refused: it contains “..” path segments.');
    expect((await sb.sim.client.as('bob').ask('run show-file -- --force', { group: 'ops' })).content).toBe(
      'The value of `path` is refused: it contains a leading “-”.',
    );
    const ok = await sb.sim.client.as('bob').ask('run show-file logs/app.log', { group: 'ops' });
    expect(await finished(sb, ok.cardId!)).toContain('logs/app.log');
  });

  it('refuses the wrong person, the wrong group and a DM-only task in a group, and audits each', async () => {
    sb = await tasksBot(FILES, '', TWO_GROUPS);
    // Before an admin binds the title, `ops` means no group: the task runs nowhere.
    expect((await sb.sim.client.as('bob').ask('run show-file a', { group: 'ops' })).content).toBe(
      '`show-file` may not run in this group.',
    );
    await sb.sim.client.as('alice').ask('groups bind ops', { group: 'ops' });
    expect((await sb.sim.client.as('carol').ask('run show-file a', { group: 'ops' })).content).toMatch(
      /You may not run/,
    );
    // The members of dev rename it `ops`: their group gets nothing meant for ops...
    await sb.sim.client.api.groupChange('dev', 'rename', { title: 'ops' });
    await sb.sim.client.api.groupChange('ops', 'rename', { title: 'not-ops' });
    await sb.sim.client.until(
      () => (sb!.bot.resolve(GroupsToken).get('cid-ops')?.title === 'not-ops' ? true : undefined),
      5000,
      'the rename',
    );
    expect((await sb.sim.client.as('bob').ask('run show-file a', { group: 'cid-dev' })).content).toBe(
      '`show-file` may not run in this group.',
    );
    // ...while the group an admin bound runs it under any title.
    const runs = await sb.sim.client.as('bob').ask('run show-file a', { group: 'cid-ops' });
    expect(runs.title).toMatch(/show-file · run #/);
    expect((await sb.sim.client.as('bob').ask('run dm-only', { group: 'cid-ops' })).content).toBe(
      '`dm-only` runs only in a direct message to the bot.',
    );
    // A task limited to a group is not run from a direct message (where no group can be checked).
    expect((await sb.sim.client.as('bob').ask('run show-file a')).content).toBe(
      '`show-file` runs only in its groups, not in a direct message.',
    );
    const denied = (await audit(sb))
      .filter((e) => e.kind === 'task' && e.outcome === 'denied')
      .map((e) => e.detail);
    expect(denied).toEqual(
      expect.arrayContaining([
        'tasks.denied.user',
        'tasks.denied.group',
        'tasks.denied.direct',
        'tasks.denied.groupsOnly',
      ]),
    );
    // doctor says where each group-limited task runs.
    const review = await sb.bot.resolve(DiagnosticsToken).run({ only: ['tasks.security'], fresh: true });
    expect(review.find((r) => r.id === 'tasks.places.show-file')?.message).toMatch(
      /runs in ops only, not from direct messages/,
    );
  });
});

describe('agent runner', () => {
  it('forwards the prompt on stdin, streams the answer, keeps the session per user, DMs only for named users', async () => {
    sb = await tasksBot(
      `      agent:\n        kind: agent\n        command: [${JSON.stringify(NODE)}, ${JSON.stringify(AGENT)}]\n        session: { resumeArgs: ['--resume', '{session}'], capture: 'session: (\\w+)' }\n        allow: { users: [Alice] }\n`,
    );
    const first = await sb.sim.client.as('alice').ask('run agent fix the "flaky" test; then $(rm -rf /)');
    const text = await finished(sb, first.cardId!);
    expect(text).toContain('agent got: fix the "flaky" test; then $(rm -rf /)');
    expect(text).toContain('session: sess42');
    const second = await sb.sim.client.as('alice').ask('run agent and now the docs');
    expect(await finished(sb, second.cardId!)).toContain('resumed sess42');
    expect((await sb.sim.client.as('alice').ask('run agent hi', { group: 'ops' })).content).toBe(
      '`agent` runs only in a direct message to the bot.',
    );
    expect((await sb.sim.client.as('bob').ask('run agent hi')).content).toMatch(/You may not run `agent`/);
  });
});
