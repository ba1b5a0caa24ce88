import { afterEach, describe, expect, it } from 'vitest';
import type { Database } from '../../../core/storage/database.js';
import { DatabaseToken } from '../../../core/storage/database.js';
import type { AlertsTables } from '../../../plugins/alerts/tables.js';
import type { SimBot } from '../../helpers/sim-bot.js';
import { alertsBot, amPayload, answer, cards, postAlerts } from './helpers.js';

let sb: SimBot | undefined;
afterEach(async () => {
  await sb?.stop();
  sb = undefined;
});

const count = async (s: SimBot, table: keyof AlertsTables) =>
  Number(
    (
      await s.bot
        .resolve<Database>(DatabaseToken)
        .db.withTables<AlertsTables>()
        .selectFrom(table)
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );

describe('alert storms and noise', () => {
  it('sends a bounded number of messages per group in a storm, and loses no alert', async () => {
    // A group_wait longer than the posting takes even on a loaded machine (the suite runs two
    // files at a time, one of them perhaps three bot processes): one window.
    sb = await alertsBot('    storm:\n      alertsPerMinute: 100\n', { groupWait: '3s' });
    const services = Array.from({ length: 40 }, (_, i) => `svc-${i}`);
    // 40 services, 5 instances each: 40 incidents, 200 alerts, in a few payloads.
    for (let batch = 0; batch < 4; batch++)
      await Promise.all(
        services.slice(batch * 10, batch * 10 + 10).map((svc) =>
          postAlerts(
            sb!,
            'alertmanager',
            amPayload(
              Array.from({ length: 5 }, (_, n) => ({
                name: 'Down',
                labels: { service: svc, instance: `i${n}` },
                fingerprint: `${svc}-${n}`,
              })),
              `{}:{service="${svc}"}`,
            ),
          ),
        ),
      );
    // Every incident is notified, in few messages: new incidents for one group wait together
    // (a digest per group_wait window; a digest has no buttons, each line names its command).
    const listed = () =>
      new Set(
        sb!.sim.client
          .botMessages('ops')
          .filter((m) => !/Alert storm/.test(m.content))
          .flatMap((m) => [...`${m.title ?? ''} ${m.content}`.matchAll(/#(\d+)/g)].map((x) => x[1])),
      );
    await sb.sim.client.until(() => listed().size === 40, 15_000, 'every incident to be notified');
    const messages = sb.sim.client.botMessages('ops');
    expect(messages.filter((m) => /Alert storm: \d+ alerts/.test(m.content))).toHaveLength(1);
    const notifications = messages.filter((m) => !/Alert storm/.test(m.content));
    expect(notifications.length).toBeLessThanOrEqual(4);
    expect(notifications.some((m) => /🔥 \d+ new incidents/.test(m.title ?? ''))).toBe(true);
    expect(await count(sb, 'alerts_incident')).toBe(40);
    expect(await count(sb, 'alerts_alert')).toBe(200);
    const calls = sb.sim.client.api.calls().calls.filter((c) => c.code?.includes('QpsLimit'));
    expect(calls).toEqual([]);
  });

  it("marks a flapping alert's incident", async () => {
    sb = await alertsBot('    flapping:\n      changes: 3\n      window: 10m\n');
    const at = (m: number) => `2026-11-22T06:${String(m).padStart(2, '0')}:00Z`;
    await postAlerts(sb, 'alertmanager', amPayload([{ name: 'Flappy', startsAt: at(1) }]));
    await postAlerts(
      sb,
      'alertmanager',
      amPayload([{ name: 'Flappy', status: 'resolved', startsAt: at(1), endsAt: at(2) }]),
    );
    await postAlerts(sb, 'alertmanager', amPayload([{ name: 'Flappy', startsAt: at(3) }]));
    await postAlerts(
      sb,
      'alertmanager',
      amPayload([{ name: 'Flappy', status: 'resolved', startsAt: at(3), endsAt: at(4) }]),
    );
    await postAlerts(sb, 'alertmanager', amPayload([{ name: 'Flappy', startsAt: at(5) }]));
    const detail = await answer(sb, 'alice', 'incidents --status all');
    expect(detail.content).toContain('#3');
    const three = await answer(sb, 'alice', 'incident 3');
    expect(three.content).toMatch(/flapping: \d state changes/);
  });

  it('re-triggers a snoozed incident that still fires when the snooze ends', async () => {
    sb = await alertsBot('    snoozePresets: [400ms, 2h]\n');
    await postAlerts(sb, 'alertmanager', amPayload([{ name: 'Sleepy' }]));
    await sb.sim.client.until(() => cards(sb!).length === 1, 3000, 'the card');
    // The shortest snooze a command allows is a minute; a button may offer any configured preset.
    const card = cards(sb)[0]!;
    await sb.sim.client.as('alice').click(card, { action: 'alerts.snooze', incident: '1', ms: '400' });
    expect(sb.sim.client.card(card.cardId!).content).toContain('Snoozed');
    await sb.sim.client.until(() => cards(sb!).length === 2, 3000, 'a new card when the snooze ends');
    expect(cards(sb)[1]!.content).toContain('Triggered');
  });

  it('reports the monthly DingTalk budget', async () => {
    sb = await alertsBot();
    const r = await sb.sim.client.as('alice').ask('alerts budget', { group: 'ops' });
    expect(r.content).toMatch(/^DingTalk API calls this month: \d+ of 10000, projected \d+/);
  });
});
