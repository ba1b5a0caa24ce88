import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditToken } from '../../../core/decide/audit-log.js';
import type { Diagnostics } from '../../../core/diagnostics/diagnostics.js';
import { DiagnosticsToken } from '../../../core/diagnostics/diagnostics.js';
import { createSimBot, type SimBot } from '../../helpers/sim-bot.js';

let sb: SimBot | undefined;
afterEach(async () => {
  await sb?.stop();
  sb = undefined;
});

describe('faq', () => {
  it('answers a question in its language, with the live check for admins and a hint for others', async () => {
    sb = await createSimBot({ yaml: 'plugins:\n  faq: {}\n' });
    const en = await sb.sim.client.as('bob').ask('faq the bot ignores us when we mention it in the group');
    expect(en.title).toBe('The bot does not answer in a group');
    expect(en.content).toContain('an admin can run `doctor groups`');
    const zh = await sb.sim.client.as('alice').ask('faq 机器人在群里没反应');
    expect(zh.title).toBe('机器人在群里不回复');
    // The admin sees the live result: no group has the app installed yet.
    expect(zh.content).toContain('⚠️ `groups`');
    const byId = await sb.sim.client.as('bob').ask('faq person-not-linked');
    expect(byId.title).toBe('Messages do not reach a person (app not linked)');
    const list = await sb.sim.client.as('bob').ask('faq list');
    expect(list.title).toBe('FAQ (12)');
    expect((await sb.sim.client.as('bob').ask('faq zebra giraffe')).content).toMatch(/^No FAQ entry matches/);
  });

  it("adds the operator's entries, and reports a malformed file by name and entry", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dingops-faq-'));
    const good = join(dir, 'ours.yaml');
    writeFileSync(
      good,
      `- id: vpn\n  en: { title: The VPN drops, keywords: [vpn, tunnel], symptom: s, check: c, fix: "Restart the tunnel" }\n  zh-CN: { title: VPN 断开, keywords: [vpn, 隧道], symptom: s, check: c, fix: 重启隧道 }\n`,
    );
    sb = await createSimBot({ yaml: `plugins:\n  faq: { files: [${JSON.stringify(good)}] }\n` });
    const r = await sb.sim.client.as('bob').ask('faq my vpn tunnel keeps dropping');
    expect(r.title).toBe('The VPN drops');
    await sb.stop();
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, '- id: Bad Id\n');
    sb = await createSimBot({ yaml: `plugins:\n  faq: { files: [${JSON.stringify(bad)}] }\n` });
    const status = await sb.sim.client.as('alice').ask('status');
    expect(status.content).toMatch(
      /faq \(failed: FAQ file .*bad\.yaml, entry 1 \(id\): ids are lower-case words joined by -\)/,
    );
  });
});

describe('plugin checks in doctor', () => {
  it('reviews task security and the groups named in alert routes', async () => {
    sb = await createSimBot({
      yaml: `plugins:\n  alerts:\n    sources: { generic: { token: generic-token-0123456789 } }\n    defaultRoute: { groups: [cid-ops, Night shift] }\n  tasks:\n    tasks:\n      ask:\n        kind: agent\n        command: [agent]\n        allow: { users: [alice], directOnly: false }\n      restart:\n        command: [systemctl, restart, api]\n        allow: { roles: [oncall] }\n      deploy:\n        command: [deploy]\n        allow: { roles: [oncall], groups: [Release train] }\n`,
    });
    const r = await sb.bot.resolve<Diagnostics>(DiagnosticsToken).run({ only: ['alerts', 'tasks'] });
    const by = (id: string) => r.find((x) => x.id === id);
    expect(by('alerts.groups.Night shift')).toMatchObject({
      severity: 'error',
      where: 'plugins.alerts.defaultRoute.groups',
    });
    expect(by('alerts.groups.cid-ops')).toBeUndefined();
    expect(by('tasks.security.ask')).toMatchObject({
      severity: 'error',
      message: 'the agent task `ask` can be used from group chats',
    });
    expect(by('tasks.security.restart')?.severity).toBe('warn');
    expect(by('tasks.groups.deploy')).toMatchObject({
      severity: 'error',
      where: 'plugins.tasks.tasks.deploy.allow.groups',
    });
    expect(by('tasks.groups.deploy')?.message).toMatch(
      /the group title 'Release train' is not bound to a group/,
    );
    // Their permissions join the core's: Card.Streaming.Write for tasks.
    const perms = await sb.bot.resolve<Diagnostics>(DiagnosticsToken).run({ only: ['permissions'] });
    expect(perms.find((x) => x.id === 'permissions.Card.Streaming.Write')?.message).toBe(
      'Card.Streaming.Write granted (needed by tasks)',
    );
    expect(perms.find((x) => x.id === 'permissions.qyapi_get_member_by_mobile')?.message).toContain('alerts');
  });
});

describe('questions without the faq command', () => {
  it('answers free text in a direct message; a near-miss command still gets its did-you-mean', async () => {
    sb = await createSimBot({ yaml: 'plugins:\n  faq: {}\n' });
    const asked = await sb.sim.client.as('bob').ask('机器人不回复怎么办');
    expect(asked.title).toBe('机器人不回复单聊消息');
    expect((await sb.sim.client.as('bob').ask('pnig')).content).toMatch(
      /Did you mean `ping`\?|did you mean `ping`/i,
    );
    // Not a question the FAQ knows: the usual unknown command.
    expect((await sb.sim.client.as('bob').ask('zebra giraffe')).content).toMatch(/^Unknown command `zebra`/);
    // In a group, free text is not the FAQ's to answer.
    expect((await sb.sim.client.as('bob').ask('机器人不回复怎么办', { group: 'ops' })).content).toMatch(
      /Unknown command/,
    );
    const audit = await sb.bot
      .resolve<import('../../../core/decide/audit-log.js').AuditLog>(AuditToken)
      .query({ limit: 10 });
    expect(audit.some((e) => e.command === '(faq)' && e.outcome === 'ok')).toBe(true);
  });
});
