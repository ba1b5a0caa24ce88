import { afterEach, describe, expect, it } from 'vitest';
import type { SimBot } from '../../helpers/sim-bot.js';
import { alertsBot, amPayload, cards, postAlerts } from './helpers.js';

let sb: SimBot | undefined;
afterEach(async () => {
  await sb?.stop();
  sb = undefined;
});

// Only the on-call role (bob) and admins (alice) may act on incidents; carol may not.
const ACCESS = `  commands:\n    ack: { roles: [oncall] }\n    unack: { roles: [oncall] }\n    resolve: { roles: [oncall] }\n    snooze: { roles: [oncall] }\n    silence add: { roles: [oncall] }\n`;

async function incidentCard(s: SimBot, name = 'HighLatency') {
  await postAlerts(s, 'alertmanager', amPayload([{ name }], `{}:{alertname="${name}"}`));
  return s.sim.client.until(() => cards(s).find((c) => c.title?.includes(name)), 3000, 'the incident card');
}

describe('acting on incidents', () => {
  it('acknowledges from the card for a permitted user and refuses someone else', async () => {
    sb = await alertsBot('', { access: ACCESS });
    const card = await incidentCard(sb);
    const ack = card.buttons.find((b) => b.text === 'Acknowledge')!;
    expect(ack.params).toEqual({ action: 'alerts.ack', incident: '1' });
    const refused = await sb.sim.client.as('carol').click(card, ack.params!);
    expect(refused.content).toContain('Triggered');
    const note = await sb.sim.client.nextReply('ops');
    expect(note.content).toMatch(/not allowed|permission/i);
    const done = await sb.sim.client.as('bob').click(card, ack.params!);
    expect(done.content).toContain('Acknowledged');
    expect(done.content).toContain('@bob');
    expect(done.buttons.map((b) => b.text)).toContain('Unacknowledge');
    const unack = done.buttons.find((b) => b.text === 'Unacknowledge')!;
    const again = await sb.sim.client.as('bob').click(card, unack.params!);
    expect(again.content).toContain('Triggered');
    await sb.sim.client.as('bob').click(card, ack.params!);
    const detail = await sb.sim.client.as('alice').ask('incident 1', { group: 'ops' });
    expect(detail.content).toMatch(/\*\*bob\*\* acknowledged/);
  });

  it('resolves and snoozes by command, updating the card in place', async () => {
    sb = await alertsBot('', { access: ACCESS });
    const card = await incidentCard(sb);
    const refused = await sb.sim.client.as('carol').ask('resolve 1', { group: 'ops' });
    expect(refused.content).toMatch(/not allowed|permission/i);
    const snoozed = await sb.sim.client.as('bob').ask('snooze 1 30m', { group: 'ops' });
    expect(snoozed.content).toContain('Snoozed');
    await sb.sim.client.until(
      () => sb!.sim.client.card(card.cardId!).content.includes('Snoozed'),
      5000,
      'the card update',
    );
    const resolved = await sb.sim.client.as('bob').ask('resolve 1 --note "rolled back"', { group: 'ops' });
    expect(resolved.content).toContain('Resolved');
    expect(resolved.buttons).toEqual([]);
    await sb.sim.client.until(
      () => sb!.sim.client.card(card.cardId!).content.includes('Resolved'),
      5000,
      'the card update',
    );
    expect((await sb.sim.client.as('bob').ask('ack 1', { group: 'ops' })).content).toBe(
      'Incident #1 is already resolved.',
    );
    expect((await sb.sim.client.as('bob').ask('ack 9', { group: 'ops' })).content).toBe(
      'There is no incident #9.',
    );
  });

  it('mutes matching alerts with a silence, and lists and ends silences', async () => {
    sb = await alertsBot('', { access: ACCESS });
    const added = await sb.sim.client
      .as('bob')
      .ask('silence add alertname=Noisy env=~prod.* 1h --comment flaky', { group: 'ops' });
    expect(added.content).toMatch(/^Silence #1 \(`alertname="Noisy"` `env=~"prod\.\*"`\) until /);
    await postAlerts(sb, 'alertmanager', amPayload([{ name: 'Noisy', labels: { env: 'prod-eu' } }], 'noisy'));
    await postAlerts(sb, 'alertmanager', amPayload([{ name: 'Loud', labels: { env: 'prod-eu' } }], 'loud'));
    await sb.sim.client.until(
      () => cards(sb!).some((c) => c.title?.includes('Loud')),
      3000,
      'the unsilenced card',
    );
    await new Promise((r) => setTimeout(r, 500));
    expect(cards(sb).some((c) => c.title?.includes('Noisy'))).toBe(false);
    const list = await sb.sim.client.as('bob').ask('silence list', { group: 'ops' });
    expect(list.content).toContain('#1 `alertname="Noisy"` `env=~"prod.*"`');
    expect((await sb.sim.client.as('bob').ask('silence remove 1', { group: 'ops' })).content).toBe(
      'Silence #1 ended.',
    );
    expect((await sb.sim.client.as('bob').ask('silence add alertname=X', { group: 'ops' })).content).toMatch(
      /^Usage/,
    );
    expect(
      (await sb.sim.client.as('bob').ask('silence add alertname=~( 1h', { group: 'ops' })).content,
    ).toMatch(/invalid regular expression/);
  });

  it('shows where an alert would go without sending anything', async () => {
    sb = await alertsBot(
      `    routes:\n      - name: db\n        match: ['service=~db|cache', 'env!=dev']\n        groups: [ops]\n        people: [carol]\n        continue: true\n      - name: prod\n        match: ['env=prod']\n        groups: [Night shift]\n`,
      { access: ACCESS },
    );
    await sb.sim.client.api.groupChange('ops', 'install', {});
    await sb.sim.client.as('alice').ask('groups bind ops', { group: 'ops' });
    const r = await sb.sim.client.as('alice').ask('alerts route test service=db env=prod', { group: 'ops' });
    expect(r.content).toContain('db, prod');
    expect(r.content).toContain('ops (cid-ops)');
    expect(r.content).toMatch(/Night shift ⚠️ the group title 'Night shift' is not bound to a group/);
    expect(r.content).toContain('carol');
    const fallback = await sb.sim.client.as('alice').ask('alerts route test service=web', { group: 'ops' });
    expect(fallback.content).toContain('default');
    expect(fallback.content).toContain('cid-ops');
  });
});

describe('escalation', () => {
  const POLICY = `    escalations:\n      oncall:\n        levels:\n          - { people: [bob], after: 400ms }\n          - { people: [carol], after: 400ms }\n    routes:\n      - match: ['severity=critical']\n        groups: [cid-ops]\n        escalation: oncall\n`;

  it('escalates to level 2 when nobody acknowledges', async () => {
    sb = await alertsBot(POLICY);
    await incidentCard(sb);
    const dm = await sb.sim.client.nextReply('dm:carol', { after: 0, timeoutMs: 4000 });
    expect(dm.kind).toBe('card');
    expect(dm.title).toContain('HighLatency');
    // Carol is told it is an escalation: which level, how long nobody acknowledged, who was
    // paged before her (the route's group and level 1).
    expect(dm.content).toMatch(
      /\*\*Escalated\*\*: level 2 of 2: unacknowledged for \d+(ms|s); paged before: cid-ops, @bob/,
    );
    // Level 1's card is the incident, not an escalation.
    const first = sb.sim.client.botMessages('dm:bob')[0]!;
    expect(first.content).not.toContain('Escalated');
    // The timeline records the level once the level's messages are out: it may follow Carol's card.
    let timeline = '';
    for (let i = 0; i < 50 && !timeline.includes('escalated: level 2'); i++) {
      if (i) await new Promise((r) => setTimeout(r, 200));
      timeline = (await sb.sim.client.as('alice').ask('incident 1', { group: 'ops' })).content;
    }
    expect(timeline).toContain('escalated: level 2');
  });

  it('does not escalate once someone acknowledges', async () => {
    sb = await alertsBot(POLICY);
    const card = await incidentCard(sb);
    await sb.sim.client.as('bob').click(card, { action: 'alerts.ack', incident: '1' });
    await new Promise((r) => setTimeout(r, 1200));
    expect(sb.sim.client.botMessages('dm:carol')).toEqual([]);
  });

  it('resumes a pending escalation after a restart, and fires it once', async () => {
    sb = await alertsBot(
      POLICY.replace('{ people: [bob], after: 400ms }', '{ people: [bob], after: 1500ms }'),
    );
    await incidentCard(sb);
    await sb.bot.stop('restart');
    await sb.restart();
    await sb.sim.client.nextReply('dm:carol', { after: 0, timeoutMs: 5000 });
    await new Promise((r) => setTimeout(r, 600));
    expect(sb.sim.client.botMessages('dm:carol')).toHaveLength(1);
  });
});

describe('alert cards read right', () => {
  it('a resolved card is not red, a silenced incident says so in incidents, route test names the silences', async () => {
    sb = await alertsBot('', { access: ACCESS });
    await postAlerts(sb, 'alertmanager', amPayload([{ name: 'Loud' }], 'loud'));
    await postAlerts(sb, 'alertmanager', amPayload([{ name: 'Muffled' }], 'muffled'));
    await sb.sim.client.until(() => cards(sb!).length === 2, 3000, 'the cards');
    const loud = cards(sb).find((c) => c.title?.includes('Loud'))!;
    expect(loud.title).toMatch(/^🔴 #\d Loud is high$/);
    await sb.sim.client.as('bob').ask('silence add alertname=Muffled 1h', { group: 'ops' });
    const list = await sb.sim.client.as('alice').ask('incidents', { group: 'ops' });
    expect(list.content).toMatch(/Muffled is high\*\* · Triggered · 🔇 silenced by #1/);
    expect(list.content).not.toMatch(/Loud is high\*\* · Triggered · 🔇/);
    const test = await sb.sim.client.as('alice').ask('alerts route test alertname=Muffled', { group: 'ops' });
    expect(test.content).toContain('Silences that mute it**: #1 `alertname="Muffled"`');
    const id = /#(\d)/.exec(loud.title!)![1];
    await sb.sim.client.as('bob').ask(`resolve ${id}`, { group: 'ops' });
    await sb.sim.client.until(
      () => sb!.sim.client.card(loud.cardId!).title?.startsWith('✅'),
      3000,
      'the resolved card',
    );
    const help = await sb.sim.client.as('alice').ask('help alerts', { group: 'ops' });
    expect(help.content).toContain('alerts route test key=value');
  });
});
