import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { AuditLog } from '../../../core/decide/audit-log.js';
import { AuditToken } from '../../../core/decide/audit-log.js';
import { DiagnosticsToken } from '../../../core/diagnostics/diagnostics.js';
import { ReplayGuard } from '../../../core/storage/replay-guard.js';
import type { SourceConfig } from '../../../plugins/alerts/config.js';
import alerts from '../../../plugins/alerts/index.js';
import { signatureTtlMs, usedSignature } from '../../../plugins/alerts/ingest/credentials.js';
import { DEFAULT_ORG } from '../../../simulator/org/default-org.js';
import { createSimBot, type SimBot } from '../../helpers/sim-bot.js';
import { useMigratedStore } from '../../helpers/storage.js';
import { AM_TOKEN, alertsBot, amPayload, cards, postAlerts } from './helpers.js';

const useStore = useMigratedStore();
let sb: SimBot | undefined;
afterEach(async () => {
  await sb?.stop();
  sb = undefined;
});

const card = async (s: SimBot, count = 1) => {
  await s.sim.client.until(() => cards(s).length >= count, 3000, 'the card');
  return cards(s)[count - 1]!;
};

describe('silences from the Silence button', () => {
  it('matches the label values as values: `~.*` in a label mutes only that alert', async () => {
    sb = await alertsBot();
    await postAlerts(sb, 'alertmanager', amPayload([{ name: '~.*' }], 'tilde'));
    const first = await card(sb);
    const silence = first.buttons.find((b) => b.text.startsWith('Silence'))!;
    await sb.sim.client.as('bob').click(first, silence.params!);
    const list = await sb.sim.client.as('bob').ask('silence list', { group: 'ops' });
    expect(list.content).toContain('`alertname="~.*"`');
    // Another alert is not muted by it.
    await postAlerts(sb, 'alertmanager', amPayload([{ name: 'DiskFull' }], 'disk'));
    const second = await card(sb, 2);
    expect(second.title).toContain('DiskFull');
    // The markdown fallback names a command that does the same (never a regex from text).
    expect(silence.params).toMatchObject({ action: 'alerts.silence', incident: '1' });
    expect(first.content).not.toContain('silence add alertname=~');
  });

  it('bounds silence durations; an absurd one is refused and cannot break `silence list`', async () => {
    sb = await alertsBot();
    expect(
      (await sb.sim.client.as('bob').ask('silence add alertname=x 99999999d', { group: 'ops' })).content,
    ).toBe('A silence lasts from 1m to 30d.');
    // A duration it cannot read is named, not answered with the usage alone.
    expect((await sb.sim.client.as('bob').ask('silence add env=prod 2x', { group: 'ops' })).content).toMatch(
      /^`2x` is not a duration/,
    );
    expect((await sb.sim.client.as('bob').ask('silence list', { group: 'ops' })).content).toBe(
      'No active silences.',
    );
    // The audit records a refused request (what bob was told), not an error inside the bot,
    // and shows it in words, not as a catalog key.
    const refused = (
      await sb.bot.resolve<AuditLog>(AuditToken).query({ actorId: 'bob', command: 'silence add', limit: 10 })
    ).map((e) => [e.outcome, e.detail]);
    expect(refused).toEqual([
      ['invalid', 'alerts.silenceBadDuration'],
      ['invalid', 'alerts.silenceDuration'],
    ]);
    // So is an argument the command line itself refused.
    await sb.sim.client.as('bob').ask('snooze 1 2x', { group: 'ops' });
    const shown = (await sb.sim.client.as('alice').ask('audit --user @bob', { group: 'ops' })).content;
    expect(shown).toContain('→ invalid (`…` is not a duration');
    expect(shown).toContain('`snooze` → invalid (`…` must be a duration');
    expect(shown).not.toMatch(/→ error|silenceBadDuration|invalidDuration/);
    // A forged button asking for a century is refused the same way.
    await postAlerts(sb, 'alertmanager', amPayload([{ name: 'Long' }]));
    const c = await card(sb);
    await sb.sim.client
      .as('bob')
      .click(c, { action: 'alerts.silence', incident: '1', ms: String(100 * 365 * 86_400_000) });
    await sb.sim.client.until(
      () => sb!.sim.client.botMessages('ops').some((m) => /parameters are not valid/.test(m.content)),
      3000,
      'the refusal',
    );
    expect((await sb.sim.client.as('bob').ask('silence list', { group: 'ops' })).content).toBe(
      'No active silences.',
    );
  });
});

describe('who may change incidents', () => {
  it('by default only responders (role oncall), admins and the people paged ack, resolve, snooze and silence', async () => {
    sb = await alertsBot();
    await postAlerts(sb, 'alertmanager', amPayload([{ name: 'DiskFull' }]));
    const c = await card(sb);
    const refusal =
      'Only responders may change incidents and silences (responders: role:oncall; admins and the people an incident was sent to also may). Ask an admin to add you.';
    for (const line of [
      'silence add alertname=~.* 1d',
      'ack 1',
      'resolve 1',
      'snooze 1 1h',
      'silence incident 1 2h',
    ])
      expect((await sb.sim.client.as('carol').ask(line, { group: 'ops' })).content).toBe(refusal);
    const ack = c.buttons.find((b) => b.text === 'Acknowledge')!;
    const clicked = await sb.sim.client.as('carol').click(c, ack.params!);
    expect(clicked.content).not.toContain('Acknowledged');
    await sb.sim.client.until(
      () => sb!.sim.client.botMessages('ops').filter((m) => m.content === refusal).length === 6,
      3000,
      'the refusal of the click',
    );
    const denied = (await sb.bot.resolve<AuditLog>(AuditToken).query({ limit: 100 })).filter(
      (e) => e.actorId === 'carol' && e.outcome === 'denied' && e.detail === 'alerts.notResponder',
    );
    expect(denied.length).toBe(6);
    // bob has the oncall role; alice is an admin.
    expect((await sb.sim.client.as('bob').ask('ack 1', { group: 'ops' })).content).toContain('Acknowledged');
    expect((await sb.sim.client.as('alice').ask('resolve 1', { group: 'ops' })).content).toContain(
      'Resolved',
    );
  });

  it('the people an incident was sent to may act on it; `everyone` opens it and doctor warns', async () => {
    sb = await alertsBot(
      '    routes:\n      - match: [team=db]\n        people: [carol]\n        groups: [cid-ops]\n',
    );
    await postAlerts(sb, 'alertmanager', amPayload([{ name: 'DbDown', labels: { team: 'db' } }]));
    await card(sb);
    expect((await sb.sim.client.as('carol').ask('ack 1', { group: 'ops' })).content).toContain(
      'Acknowledged',
    );
    const doctor = await sb.sim.client.as('alice').ask('doctor alerts.responders');
    expect(doctor.content).toMatch(/incidents and silences can be changed by: role:oncall/);
    await sb.stop();
    sb = await alertsBot('    responders: [everyone]\n');
    const open = await sb.sim.client.as('alice').ask('doctor alerts.responders');
    expect(open.content).toMatch(/every member may ack, resolve, snooze and silence incidents/);
    expect(
      (await sb.sim.client.as('carol').ask('silence add alertname=x 1h', { group: 'ops' })).content,
    ).toMatch(/^Silence #1/);
  });
});

describe('untrusted text in cards and lists', () => {
  it('escapes backticks and links in labels and titles; one huge title does not push the others out', async () => {
    sb = await alertsBot();
    const evil = {
      ...amPayload([{ name: 'Evil', labels: { service: 'a`b [l](http://e)' } }], 'evil'),
    };
    evil.alerts[0]!.annotations.summary = 'Click [here](http://evil.example) **now**';
    await postAlerts(sb, 'alertmanager', evil);
    const c = await card(sb);
    expect(c.content).not.toContain('[here](http://evil.example)');
    expect(c.content).toContain('`service=aˋb [l](http://e)`');
    const huge = amPayload([{ name: 'Huge' }], 'huge');
    huge.alerts[0]!.annotations.summary = 'x'.repeat(100_000);
    const r = await postAlerts(sb, 'alertmanager', huge);
    expect(r.status).toBe(200);
    for (const name of ['A', 'B', 'C']) await postAlerts(sb, 'alertmanager', amPayload([{ name }], name));
    // The answer is the message listing them all (their cards, or a digest, may come between).
    const cursor = sb.sim.client.cursor();
    await sb.sim.client.as('alice').say('incidents', { group: 'ops' });
    const list = await sb.sim.client.until(
      () =>
        sb!.sim.client
          .botMessages('ops')
          .find((m) => m.seq > cursor && m.content.includes('#1') && m.content.includes('#5')),
      10_000,
      'the incident list',
    );
    for (const id of ['#1', '#2', '#3', '#4', '#5']) expect(list.content).toContain(id);
    // The title was cut at ingest, with a visible mark.
    const shown = await sb.sim.client.as('alice').ask('incident 2', { group: 'ops' });
    expect(shown.content).toMatch(/x{100,}…/);
    expect(shown.content.length).toBeLessThan(6000);
  });
});

describe('webhooks', () => {
  it('answers 400 to a generic alert nested 10,000 deep (not a 500 the sender retries forever)', async () => {
    sb = await alertsBot();
    const body = `{"title":"deep","labels":{"x":${'['.repeat(10_000)}1${']'.repeat(10_000)}}}`;
    const r = await postAlerts(sb, 'generic', body, { authorization: 'Bearer generic-token-0123456789' });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatch(/nested more than 32 levels/);
  });

  it('accepts a Grafana signature once', async () => {
    sb = await alertsBot();
    const text = JSON.stringify(amPayload([{ name: 'GrafanaRule' }], 'grafana-key'));
    const ts = String(Math.floor(Date.now() / 1000));
    const sig = createHmac('sha256', 'grafana-secret-0123456789').update(`${ts}:${text}`).digest('hex');
    const headers = { 'x-grafana-alerting-signature': sig, 'x-grafana-alerting-signature-timestamp': ts };
    expect((await postAlerts(sb, 'grafana', text, headers)).status).toBe(200);
    const again = await postAlerts(sb, 'grafana', text, headers);
    expect(again.status).toBe(409);
    expect(again.body.error).toMatch(/already received/);
    // The same request with the signature spelled another way is the same signature.
    for (const spelling of [`sha256=${sig}`, sig.toUpperCase(), ` ${sig}`]) {
      const respelled = await postAlerts(sb, 'grafana', text, {
        ...headers,
        'x-grafana-alerting-signature': spelling,
      });
      expect(respelled.status, spelling).toBe(409);
    }
  });

  it('remembers a signature made without a timestamp for as long as it verifies, not ten minutes', async () => {
    const source = {
      hmacSecret: 'generic-secret-0123456789',
      signatureHeader: 'X-Signature',
    } as SourceConfig;
    const store = useStore();
    let now = Date.UTC(2026, 11, 1);
    const guard = new ReplayGuard(store, () => now);
    const body = '{"title":"disk full","status":"resolved"}';
    const sig = createHmac('sha256', source.hmacSecret!).update(body).digest('hex');
    const key = usedSignature(source, { 'x-signature': sig })!;
    expect(await guard.check('generic', key, body, signatureTtlMs(source))).toBe('first');
    // A month later (and across restarts: the record is in the store) the same request is refused.
    now += 30 * 86_400_000;
    expect(await new ReplayGuard(store, () => now).check('generic', key, body, signatureTtlMs(source))).toBe(
      'same',
    );
    expect(usedSignature(source, { 'x-signature': `sha256=${sig.toUpperCase()}` })).toBe(key);
  });

  it('doctor advises a timestamp for a source signed without one', async () => {
    sb = await createSimBot({
      plugins: [alerts],
      yaml: 'plugins:\n  alerts:\n    sources:\n      generic: { hmacSecret: generic-secret-0123456789, signatureHeader: X-Signature }\n      grafana: { hmacSecret: grafana-secret-0123456789, signatureHeader: X-Grafana-Alerting-Signature, timestampHeader: X-Grafana-Alerting-Signature-Timestamp }\n    defaultRoute:\n      groups: [cid-ops]\n',
    });
    const results = await sb.bot.resolve(DiagnosticsToken).run({ only: ['alerts.signatures'], fresh: true });
    expect(results.map((r) => [r.id, r.severity])).toEqual([['alerts.signatures.generic', 'warn']]);
    expect(results[0]?.message).toMatch(/signed without a timestamp/);
  });
});

describe('a group title is no identity', () => {
  const ORG = {
    ...DEFAULT_ORG,
    groups: [
      ...DEFAULT_ORG.groups,
      // Carol's own group, where she may rename as she likes.
      {
        openConversationId: 'cid-carol',
        title: 'carol-team',
        members: ['carol', 'bob'],
        coolAppInstalled: true,
      },
    ],
  };
  const routed = () =>
    createSimBot({
      sim: { org: ORG },
      yaml: `plugins:\n  alerts:\n    sources:\n      alertmanager: { token: ${AM_TOKEN} }\n    grouping:\n      groupWait: 100ms\n      groupInterval: 200ms\n      repeatInterval: 1h\n    defaultRoute:\n      groups: [secret-team]\n`,
    });

  it("never sends a title's alerts to a group that renamed itself to it, before or after the title is bound", async () => {
    sb = await routed();
    // A fresh install: carol renames her group to the title the routes name, and talks there.
    await sb.sim.client.api.groupChange('carol-team', 'rename', { title: 'secret-team' });
    await sb.sim.client.as('carol').ask('ping', { group: 'cid-carol' });
    await postAlerts(sb, 'alertmanager', amPayload([{ name: 'Before' }], 'before'));
    await sb.sim.client.until(
      () => sb!.sim.client.botMessages('dm:alice').find((m) => /waiting/.test(m.content)),
      3000,
      'the admins told',
    );
    expect(cards(sb, 'cid-carol')).toEqual([]);
    // An admin binds the title in the real group (the cool app is in ops): the alert goes there.
    await sb.sim.client.api.groupChange('ops', 'rename', { title: 'secret-team' });
    await sb.sim.client.as('alice').ask('groups bind secret-team', { group: 'cid-ops' });
    await sb.sim.client.until(() => cards(sb!, 'cid-ops').length === 1, 3000, 'the alert in the bound group');
    // The real group is renamed; carol's keeps the title: the next alert still goes to the bound one.
    await sb.sim.client.api.groupChange('cid-ops', 'rename', { title: 'ops' });
    await sb.sim.client.api.groupChange('cid-carol', 'rename', { title: 'secret-team' });
    await postAlerts(sb, 'alertmanager', amPayload([{ name: 'After' }], 'after'));
    await sb.sim.client.until(() => cards(sb!, 'cid-ops').length === 2, 3000, 'the second alert');
    await new Promise((r) => setTimeout(r, 300));
    expect(cards(sb, 'cid-carol')).toEqual([]);
    // The admins were told, once, that carol's group carries the bound title.
    const taken = await sb.sim.client.until(
      () =>
        sb!.sim.client
          .botMessages('dm:alice')
          .filter((m) => /a title bound to another group/.test(m.content)),
      3000,
      'the admins told of the taken title',
    );
    expect(taken.length).toBe(1);
    expect(taken[0]?.content).toContain('cid-carol');
  });
});
