import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { DiagnosticsToken } from '../../../core/diagnostics/diagnostics.js';
import { GroupsToken } from '../../../core/directory/group-registry.js';
import type { SimBot } from '../../helpers/sim-bot.js';
import { alertsBot, amPayload, cards, postAlerts } from './helpers.js';

let sb: SimBot | undefined;
afterEach(async () => {
  await sb?.stop();
  sb = undefined;
});

describe('alerts ingest', () => {
  it('turns an Alertmanager payload into one card in the routed group, after group_wait', async () => {
    // group_wait long enough for the second payload to arrive inside it on a busy machine.
    sb = await alertsBot('', { groupWait: '2s' });
    const r = await postAlerts(
      sb,
      'alertmanager',
      amPayload([{ name: 'HighLatency', labels: { instance: 'a' } }]),
    );
    expect(r).toMatchObject({ status: 200, body: { accepted: 1, duplicates: 0 } });
    // A second alert of the same group inside group_wait joins the same notification.
    await postAlerts(sb, 'alertmanager', amPayload([{ name: 'HighLatency', labels: { instance: 'b' } }]));
    const card = await sb.sim.client.nextReply('ops', { after: 0 });
    expect(card.kind).toBe('card');
    // Two alerts: named by what grouped them, not by the first one's summary.
    expect(card.title).toBe('🔴 #1 HighLatency (2)');
    expect(card.content).toContain('2 firing / 2');
    await new Promise((res) => setTimeout(res, 800));
    expect(cards(sb)).toHaveLength(1);
  });

  it('absorbs duplicates (an HA pair) and an out-of-order resolve', async () => {
    sb = await alertsBot();
    const firing = amPayload([{ name: 'DiskFull' }]);
    expect((await postAlerts(sb, 'alertmanager', firing)).body).toMatchObject({ accepted: 1 });
    expect((await postAlerts(sb, 'alertmanager', firing)).body).toMatchObject({ accepted: 0, duplicates: 1 });
    const resolved = amPayload([{ name: 'DiskFull', status: 'resolved', endsAt: '2026-11-22T06:05:00Z' }]);
    expect((await postAlerts(sb, 'alertmanager', resolved)).body).toMatchObject({ accepted: 1 });
    // The firing notification of the same occurrence, delivered late: absorbed, the incident stays resolved.
    expect((await postAlerts(sb, 'alertmanager', firing)).body).toMatchObject({ accepted: 0, duplicates: 1 });
    const list = await sb.sim.client.as('alice').ask('incidents --status all', { group: 'ops' });
    expect(list.content).toContain('#1');
    expect(list.content).toContain('Resolved');
    expect(list.content).not.toContain('#2');
    // A resolve that arrives before its firing: the late firing is absorbed too.
    const early = amPayload([{ name: 'Cpu', status: 'resolved', endsAt: '2026-11-22T06:01:00Z' }]);
    await postAlerts(sb, 'alertmanager', early);
    expect((await postAlerts(sb, 'alertmanager', amPayload([{ name: 'Cpu' }]))).body).toMatchObject({
      duplicates: 1,
    });
  });

  it('rejects missing and wrong credentials, disabled sources and malformed payloads, and counts them', async () => {
    sb = await alertsBot();
    const body = amPayload([{ name: 'X' }]);
    expect((await postAlerts(sb, 'alertmanager', body, {})).status).toBe(401);
    expect((await postAlerts(sb, 'alertmanager', body, { authorization: 'Bearer nope' })).body.error).toBe(
      'wrong bearer token',
    );
    expect((await postAlerts(sb, 'alertmanager', '{"alerts": [', undefined)).body.error).toMatch(
      /not valid JSON/,
    );
    const noAlerts = await postAlerts(sb, 'alertmanager', { version: '4' });
    expect(noAlerts).toMatchObject({ status: 400, body: { error: 'alerts must be an array' } });
    const badStatus = await postAlerts(sb, 'alertmanager', { alerts: [{ status: 'burning', labels: {} }] });
    expect(badStatus.body.error).toBe('alerts[0].status must be firing or resolved');
    const generic = await postAlerts(
      sb,
      'generic',
      { severity: 'bad' },
      { authorization: 'Bearer generic-token-0123456789' },
    );
    expect(generic).toMatchObject({ status: 400, body: { error: 'body.title is required' } });
    const metrics = (await sb.bot.http.inject({ url: '/metrics' })).body;
    expect(metrics).toMatch(
      /dingops_alerts_received_total\{source="alertmanager",outcome="unauthorized"\} 2/,
    );
    expect(metrics).toMatch(/dingops_alerts_received_total\{source="alertmanager",outcome="malformed"\} 3/);
    expect(cards(sb)).toEqual([]);
  });

  it('accepts Grafana with its HMAC signature and the generic JSON with a bearer token', async () => {
    sb = await alertsBot();
    const grafana = {
      ...amPayload([{ name: 'GrafanaRule' }], 'grafana-key'),
      version: '1',
      orgId: 1,
      state: 'alerting',
    };
    const text = JSON.stringify(grafana);
    const ts = String(Math.floor(Date.now() / 1000));
    const sig = createHmac('sha256', 'grafana-secret-0123456789').update(`${ts}:${text}`).digest('hex');
    const ok = await postAlerts(sb, 'grafana', text, {
      'x-grafana-alerting-signature': sig,
      'x-grafana-alerting-signature-timestamp': ts,
    });
    expect(ok).toMatchObject({ status: 200, body: { accepted: 1 } });
    const forged = await postAlerts(sb, 'grafana', text, {
      'x-grafana-alerting-signature': sig.replace(/^./, sig[0] === 'a' ? 'b' : 'a'),
      'x-grafana-alerting-signature-timestamp': ts,
    });
    expect(forged).toMatchObject({ status: 401, body: { error: 'wrong signature' } });
    const generic = await postAlerts(
      sb,
      'generic',
      { title: 'Backup failed', severity: 'critical', labels: { service: 'db' }, dedupKey: 'backup-db' },
      { authorization: 'Bearer generic-token-0123456789' },
    );
    expect(generic).toMatchObject({ status: 200, body: { accepted: 1 } });
    await sb.sim.client.until(() => cards(sb!).length === 2, 3000, 'two incident cards');
    expect(
      cards(sb)
        .map((c) => c.title)
        .sort(),
    ).toEqual([expect.stringContaining('GrafanaRule is high'), expect.stringContaining('Backup failed')]);
  });
});

describe('notification windows', () => {
  it('updates the card in place when alerts join or resolve after the first notification', async () => {
    sb = await alertsBot();
    await postAlerts(sb, 'alertmanager', amPayload([{ name: 'Lag', labels: { instance: 'a' } }], 'lag'));
    const card = await sb.sim.client.nextReply('ops', { after: 0 });
    expect(card.content).toContain('1 firing / 1');
    await postAlerts(sb, 'alertmanager', amPayload([{ name: 'Lag', labels: { instance: 'b' } }], 'lag'));
    // After group_interval: the same card says 2, and no new message was sent.
    await sb.sim.client.until(
      () => sb!.sim.client.card(card.cardId!).content.includes('2 firing / 2'),
      8000,
      'the update',
    );
    await postAlerts(
      sb,
      'alertmanager',
      amPayload(
        [
          { name: 'Lag', labels: { instance: 'a' }, status: 'resolved', endsAt: '2026-11-22T06:09:00Z' },
          { name: 'Lag', labels: { instance: 'b' }, status: 'resolved', endsAt: '2026-11-22T06:09:00Z' },
        ],
        'lag',
      ),
    );
    await sb.sim.client.until(
      () => sb!.sim.client.card(card.cardId!).content.includes('Resolved'),
      8000,
      'resolved',
    );
    expect(sb.sim.client.botMessages('ops')).toHaveLength(1);
  });

  it('shows the resolve of an incident silenced after it was notified, when configured', async () => {
    sb = await alertsBot('    sendResolvedForSilenced: true\n');
    const card = await notifySilenceThenResolve(sb);
    await sb.sim.client.until(
      () => sb!.sim.client.card(card.cardId!).content.includes('Resolved'),
      8000,
      'the resolved card',
    );
  });

  it('keeps quiet about a silenced incident otherwise', async () => {
    sb = await alertsBot();
    const card = await notifySilenceThenResolve(sb);
    await new Promise((r) => setTimeout(r, 1200));
    expect(sb.sim.client.card(card.cardId!).content).toContain('Triggered');
    const detail = await sb.sim.client.as('alice').ask('incident 1', { group: 'ops' });
    expect(detail.content).toContain('muted: silence #1');
  });
});

/** Alert `Quiet` fires and is notified, then it is silenced, then it resolves: the notified card. */
async function notifySilenceThenResolve(bot: SimBot) {
  await postAlerts(bot, 'alertmanager', amPayload([{ name: 'Quiet' }], 'quiet'));
  const card = await bot.sim.client.nextReply('ops', { after: 0 });
  await bot.sim.client.as('alice').ask('silence add alertname=Quiet 1h', { group: 'ops' });
  await postAlerts(
    bot,
    'alertmanager',
    amPayload([{ name: 'Quiet', status: 'resolved', endsAt: '2026-11-22T06:09:00Z' }], 'quiet'),
  );
  return card;
}

describe('a group the bot does not know yet', () => {
  it('keeps the alert for it, tells the admins once, and delivers it when an admin binds the title', async () => {
    // The shipped example routes by title (`groups: [ops]`); on a fresh store no group is known.
    sb = await alertsBot('    routes:\n      - match: [team=web]\n        groups: [ops]\n', {
      groupWait: '100ms',
    });
    await postAlerts(sb, 'alertmanager', amPayload([{ name: 'WebDown', labels: { team: 'web' } }], 'web-1'));
    await postAlerts(sb, 'alertmanager', amPayload([{ name: 'WebSlow', labels: { team: 'web' } }], 'web-2'));
    const told = await sb.sim.client.until(
      () => sb!.sim.client.botMessages('dm:alice').find((m) => /waiting/.test(m.content)),
      3000,
      'the admin told',
    );
    expect(told.content).toContain('“ops”');
    expect(told.content).toContain('groups bind ops');
    await new Promise((r) => setTimeout(r, 400));
    expect(cards(sb)).toHaveLength(0);
    expect(sb.sim.client.botMessages('dm:alice').filter((m) => /waiting/.test(m.content))).toHaveLength(1);
    expect(sb.logs.lines.some((l) => l.includes('waiting for a group') && !l.includes('"stack"'))).toBe(true);
    // Someone @mentions the bot in ops: the bot knows the group, but a title is no identity.
    await sb.sim.client.as('bob').ask('ping', { group: 'ops' });
    await new Promise((r) => setTimeout(r, 300));
    expect(cards(sb)).toHaveLength(0);
    // An admin vouches for it in the group: now 'ops' means this group, and the alerts go out.
    await sb.sim.client.as('alice').say('groups bind ops', { group: 'ops' });
    // The confirmation and the waiting cards arrive in either order.
    await sb.sim.client.until(
      () =>
        cards(sb!).length === 2 &&
        sb!.sim.client.botMessages('ops').some((m) => /now means this group/.test(m.content)),
      3000,
      'the confirmation and the waiting cards',
    );
    expect(
      cards(sb)
        .map((c) => c.title)
        .join(' '),
    ).toMatch(/WebDown.*WebSlow|WebSlow.*WebDown/);
    const detail = await sb.sim.client.as('alice').ask('incident 1', { group: 'ops' });
    expect(detail.content).toContain('waiting for the group: ops');
    expect(detail.content).toContain('notified: ops');
    // Nothing is sent twice when the first notification's retry comes round.
    await new Promise((r) => setTimeout(r, 1200));
    expect(cards(sb)).toHaveLength(2);
  });
});

describe('a group that was disbanded', () => {
  it('is reported by doctor for the routes that name it, and its alerts wait as for an unknown group', async () => {
    sb = await alertsBot('', { groupWait: '100ms' });
    // The bot knows ops (a message came from it); then its owner disbands it (chat_disband).
    await sb.sim.client.as('bob').ask('ping', { group: 'ops' });
    expect((await sb.sim.client.api.groupChange('ops', 'disband', { operator: 'bob' })).acked).toBe(true);
    const groups = sb.bot.resolve(GroupsToken);
    await sb.sim.client.until(() => groups.get('cid-ops')?.disbanded === true, 3000, 'the disband');
    const doctor = await sb.bot.resolve(DiagnosticsToken).run({ only: ['alerts.groups'], fresh: true });
    expect(doctor).toEqual([
      expect.objectContaining({
        severity: 'error',
        where: 'plugins.alerts.defaultRoute.groups',
        message: expect.stringMatching(/cid-ops was disbanded/),
      }),
    ]);
    await postAlerts(sb, 'alertmanager', amPayload([{ name: 'AfterDisband' }], 'gone-1'));
    const told = await sb.sim.client.until(
      () => sb!.sim.client.botMessages('dm:alice').find((m) => /waiting/.test(m.content)),
      3000,
      'the admin told',
    );
    expect(told.content).toContain('cid-ops');
    expect(
      sb.sim.state.calls.filter((c) => c.path.includes('card/instances') && c.status === 200),
    ).toHaveLength(0);
  });
});
