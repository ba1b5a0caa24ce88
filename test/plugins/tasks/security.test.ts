import { afterEach, describe, expect, it } from 'vitest';
import type { AuditLog } from '../../../core/decide/audit-log.js';
import { AuditToken } from '../../../core/decide/audit-log.js';
import type { SimBot } from '../../helpers/sim-bot.js';
import { cardText, nodeCommand, TWO_GROUPS, tasksBot } from './helpers.js';

let sb: SimBot | undefined;
afterEach(async () => {
  await sb?.stop();
  sb = undefined;
});

const FINAL = /Succeeded|Failed|Timed out|Cancelled|Interrupted/;
const finished = (s: SimBot, cardId: string) =>
  s.sim.client.until(() => FINAL.test(cardText(s, cardId)) && cardText(s, cardId), 8000, 'the run to end');

/** Every text the card's streamed output showed, update by update. */
function streamedUpdates(s: SimBot, cardId: string): string[] {
  const card = s.sim.client.state.cards.get(cardId)!;
  return Object.values(card.streaming).flatMap((x) => x.sent);
}

describe('who sees a run', () => {
  const TASKS = `      admin-only:\n        command: ${nodeCommand('console.log("the output of " + process.argv[1])', '{target}')}\n        params:\n          target: { type: string, pattern: '[a-z]+' }\n      count:\n        command: ${nodeCommand('console.log("counted")')}\n        allow: { roles: [oncall] }\n`;

  it('shows a run only to who may run it, where it may run; history lists only those', async () => {
    sb = await tasksBot(TASKS, '', TWO_GROUPS);
    const run = await sb.sim.client.as('alice').ask('run admin-only payroll', { group: 'ops' });
    expect(await finished(sb, run.cardId!)).toContain('the output of payroll');
    const refused =
      'You may not see run #1 here: runs are shown to the people who may run the task, where it may run (in a group, only that group’s runs).';
    for (const cmd of ['task 1', 'task log 1']) {
      expect((await sb.sim.client.as('carol').ask(cmd, { group: 'ops' })).content).toBe(refused);
      expect((await sb.sim.client.as('carol').ask(cmd)).content).toBe(refused);
      // bob has a role, but not one this task allows.
      expect((await sb.sim.client.as('bob').ask(cmd, { group: 'ops' })).content).toBe(refused);
    }
    const bobs = await sb.sim.client.as('bob').ask('run count', { group: 'ops' });
    await finished(sb, bobs.cardId!);
    const carolHistory = (await sb.sim.client.as('carol').ask('task history', { group: 'ops' })).content;
    expect(carolHistory).not.toContain('admin-only');
    expect(carolHistory).not.toContain('payroll');
    const bobHistory = (await sb.sim.client.as('bob').ask('task history', { group: 'ops' })).content;
    expect(bobHistory).toContain('#2 **count**');
    expect(bobHistory).not.toContain('payroll');
    // The requester and admins see it, in its group or in a DM; not in another group.
    expect((await sb.sim.client.as('alice').ask('task log 1', { group: 'ops' })).content).toContain(
      'the output of payroll',
    );
    expect((await sb.sim.client.as('alice').ask('task 1')).content).toContain('the output of payroll');
    expect((await sb.sim.client.as('alice').ask('task 1', { group: 'dev' })).content).toBe(refused);
    expect((await sb.sim.client.as('alice').ask('task history', { group: 'ops' })).content).toContain(
      'payroll',
    );
    const denied = (await sb.bot.resolve<AuditLog>(AuditToken).query({ limit: 100 })).filter(
      (e) => e.detail === 'tasks.denied.view',
    );
    expect(denied.map((e) => e.actorId)).toEqual(expect.arrayContaining(['carol', 'bob']));
  });
});

describe('secrets in the output', () => {
  it('never shows part of a secret: not when it is written in two pieces, not when the tail cuts it', async () => {
    const split = `process.stdout.write("deploying with tok-SECRET-abc"); setTimeout(() => { process.stdout.write("def123456 done\\n"); setTimeout(() => {}, 400); }, 700)`;
    // The card shows the last 6,000 bytes: this puts the cut inside the secret.
    const cut = `console.log("a".repeat(10000) + "tok-SECRET-abcdef123456" + "b".repeat(5978))`;
    sb = await tasksBot(
      `      split:\n        command: ${nodeCommand(split)}\n        redact: [tok-SECRET-abcdef123456]\n        allow: { roles: [oncall] }\n      cut:\n        command: ${nodeCommand(cut)}\n        redact: [tok-SECRET-abcdef123456]\n        allow: { roles: [oncall] }\n`,
    );
    const first = await sb.sim.client.as('bob').ask('run split', { group: 'ops' });
    // An update goes out while the program waits between its two writes.
    await sb.sim.client.until(
      () => streamedUpdates(sb!, first.cardId!).some((u) => u.includes('deploying with')),
      5000,
      'the first write on the card',
    );
    const text = await finished(sb, first.cardId!);
    expect(text).toContain('deploying with *** done');
    const second = await sb.sim.client.as('bob').ask('run cut', { group: 'ops' });
    await finished(sb, second.cardId!);
    for (const id of [first.cardId!, second.cardId!]) {
      const updates = streamedUpdates(sb, id);
      expect(updates.length).toBeGreaterThan(0);
      for (const u of updates)
        for (const part of ['tok-SECRET', 'SECRET-abc', 'abcdef123456', 'ok-SECRET'])
          expect(u).not.toContain(part);
    }
    for (const cmd of ['task log 1', 'task log 2']) {
      const shown = (await sb.sim.client.as('bob').ask(cmd, { group: 'ops' })).content;
      expect(shown).not.toContain('SECRET');
      expect(shown).not.toContain('abcdef123456');
    }
  });

  it('masks a secret param in the run card, task views, history and audit, and redacts it from output', async () => {
    sb = await tasksBot(
      `      login:\n        command: ${nodeCommand('console.log("logging in as " + process.argv[1] + " with " + process.argv[2])', '{user}', '{password}')}\n        params:\n          user: { type: string, pattern: '[a-z]+' }\n          password: { type: string, pattern: '[A-Za-z0-9-]+', secret: true }\n        allow: { roles: [oncall] }\n`,
    );
    const run = await sb.sim.client.as('bob').ask('run login deploy hunter2-Password-9', { group: 'ops' });
    const text = await finished(sb, run.cardId!);
    expect(text).toContain('`user=deploy` `password=***`');
    expect(text).toContain('logging in as deploy with ***');
    const views = [
      (await sb.sim.client.as('bob').ask('task 1', { group: 'ops' })).content,
      (await sb.sim.client.as('bob').ask('task log 1', { group: 'ops' })).content,
      (await sb.sim.client.as('bob').ask('task history', { group: 'ops' })).content,
      JSON.stringify(await sb.bot.resolve<AuditLog>(AuditToken).query({ limit: 100 })),
      ...streamedUpdates(sb, run.cardId!),
    ];
    for (const v of views) expect(v).not.toContain('hunter2-Password-9');
    expect(views[2]).toContain('`password=***`');
  });
});

describe('assembled arguments', () => {
  it('checks each argv element after substitution: no `..` from two values, no leading `-` from an int', async () => {
    sb = await tasksBot(
      `      concat:\n        command: ${nodeCommand('console.log(process.argv[1])', '/srv/data/{a}{b}/x')}\n        params:\n          a: { type: string, pattern: '[.a-z]+' }\n          b: { type: string, pattern: '[.a-z]+' }\n        allow: { roles: [oncall] }\n      kill:\n        command: ${nodeCommand('console.log("kill", process.argv[1])', '{pid}')}\n        params:\n          pid: { type: int }\n        allow: { roles: [oncall] }\n      shift:\n        command: ${nodeCommand('console.log(process.argv[1], process.argv[2])', '--', '--offset={n}', '{m}')}\n        params:\n          n: { type: int }\n          m: { type: int, min: -5 }\n        allow: { roles: [oncall] }\n`,
    );
    const ask = (line: string) => sb!.sim.client.as('bob').ask(line, { group: 'ops' });
    expect((await ask('run concat . .')).content).toBe(
      'The value of `a, b` is refused: it contains “..” path segments.',
    );
    expect((await ask('run kill -1')).content).toBe(
      'The value of `pid` is refused: it contains a leading “-”.',
    );
    // A negative number where the task has room for one: after `--offset=`, or with a negative min.
    const shift = await ask('run shift -1 -3');
    expect(await finished(sb, shift.cardId!)).toContain('--offset=-1 -3');
    const ok = await ask('run concat a b');
    expect(await finished(sb, ok.cardId!)).toContain('/srv/data/ab/x');
    const audit = await sb.bot.resolve<AuditLog>(AuditToken).query({ limit: 100 });
    expect(audit.filter((e) => e.outcome === 'denied' && e.detail === 'tasks.badValue')).toHaveLength(2);
  });
});
