import type { Kysely } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { type Database, DatabaseToken } from '../../../core/storage/database.js';
import type { SimBot } from '../../helpers/sim-bot.js';
import { alertsBot, amPayload, cards, postAlerts } from './helpers.js';

let sb: SimBot | undefined;
afterEach(async () => {
  await sb?.stop();
  sb = undefined;
});

const POLICY = `    escalations:\n      oncall:\n        levels:\n          - { people: [bob], after: 1500ms }\n          - { people: [carol], after: 1h }\n    routes:\n      - match: ['severity=critical']\n        groups: [cid-ops]\n        escalation: oncall\n`;

interface IncidentDue {
  alerts_incident: {
    notify_due_at: number | null;
    last_notified_at: number | null;
    escalation_level: number | null;
    escalation_round: number | null;
    escalation_due_at: number | null;
  };
}

const incidents = (s: SimBot) => s.bot.resolve<Database>(DatabaseToken).db as unknown as Kysely<IncidentDue>;

describe('notifications done again are not sent again', () => {
  it('sent, then the process died before recording them: done again, each reaches people once', async () => {
    sb = await alertsBot(POLICY);
    await postAlerts(sb, 'alertmanager', amPayload([{ name: 'DiskFull' }], 'disk'));
    const client = sb.sim.client;
    await client.until(() => cards(sb!).length === 1 || undefined, 5_000, 'the incident card');
    await client.until(() => client.botMessages('dm:bob').length === 1 || undefined, 5_000, 'level 1');
    await client.until(() => client.botMessages('dm:carol').length === 1 || undefined, 5_000, 'level 2');
    // The state a crash leaves between sending and recording it: nothing recorded as done.
    await incidents(sb)
      .updateTable('alerts_incident')
      .set({
        notify_due_at: Date.now(),
        last_notified_at: null,
        escalation_level: null,
        escalation_round: null,
        escalation_due_at: null,
      })
      .execute();
    await sb.bot.stop('simulated crash');
    await sb.restart();
    // Done again: the first notification, then level 2 after 1.5 s; recorded this time.
    const row = () => incidents(sb!).selectFrom('alerts_incident').selectAll().executeTakeFirstOrThrow();
    for (const deadline = Date.now() + 6_000; Date.now() < deadline; ) {
      const r = await row();
      if (r.last_notified_at && Number(r.escalation_level) === 1) break;
      await new Promise((w) => setTimeout(w, 50));
    }
    const r = await row();
    expect(r.last_notified_at).toBeTruthy();
    expect(Number(r.escalation_level)).toBe(1);
    await new Promise((w) => setTimeout(w, 300));
    // Nothing new reached anyone.
    expect(cards(sb)).toHaveLength(1);
    expect(client.botMessages('dm:bob')).toHaveLength(1);
    expect(client.botMessages('dm:carol')).toHaveLength(1);
  });
});
