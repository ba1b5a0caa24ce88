import { describe, expect, it, vi } from 'vitest';
import { migrateToLatest } from '../../../core/storage/migrations.js';
import { alertsConfigSchema } from '../../../plugins/alerts/config.js';
import { AlertGrouping } from '../../../plugins/alerts/grouping.js';
import { alertsMigrations } from '../../../plugins/alerts/migrations.js';
import type { IngestBatch } from '../../../plugins/alerts/model.js';
import type { AlertsTables } from '../../../plugins/alerts/tables.js';
import { useMigratedStore } from '../../helpers/storage.js';

const store = useMigratedStore();

function batch(service: string, fingerprint: string, status: 'firing' | 'resolved' = 'firing'): IngestBatch {
  return {
    source: 'alertmanager',
    truncated: 0,
    alerts: [
      {
        fingerprint,
        status,
        labels: { alertname: 'HighLatency', service, instance: fingerprint },
        annotations: {},
        startsAt: 1_000,
        links: [],
        groupKey: `{}:{service="${service}"}`,
        title: `HighLatency ${service}`,
        severity: 'warning',
      },
    ],
  };
}

async function grouping() {
  const db = store().db.withTables<AlertsTables>();
  await migrateToLatest(db, 'alerts', alertsMigrations);
  const config = alertsConfigSchema.parse({
    defaultRoute: { groups: ['ops'] },
    grouping: { groupWait: '30s' },
  });
  return {
    db,
    grouping: new AlertGrouping(
      db,
      () => config,
      () => 5_000,
      store().dialect,
    ),
  };
}

describe('alert payloads arriving together (group commit)', () => {
  it('are each answered with their own outcome, and all stored', async () => {
    const { db, grouping: g } = await grouping();
    // Eight senders at once, as a busy webhook sees them; one resolves an alert another fires.
    const outcomes = await Promise.all([
      ...Array.from({ length: 6 }, (_, i) => g.ingest(batch(`svc-${i}`, `fp-${i}`))),
      g.ingest(batch('svc-0', 'fp-0')), // the same alert again: absorbed
      g.ingest(batch('svc-1', 'fp-1', 'resolved')),
    ]);
    expect(outcomes.slice(0, 6).map((o) => o.accepted)).toEqual([1, 1, 1, 1, 1, 1]);
    expect(outcomes[6]).toMatchObject({ accepted: 0, absorbed: 1 });
    expect(outcomes[7]).toMatchObject({ accepted: 1, absorbed: 0 });
    expect(new Set(outcomes.slice(0, 6).flatMap((o) => o.incidents)).size).toBe(6);
    // Each says when its notification is due: the group_wait from now.
    expect(outcomes[0]?.nextDue).toBe(5_000 + 30_000);
    const incidents = await db
      .selectFrom('alerts_incident')
      .select(['group_key', 'status', 'firing'])
      .execute();
    expect(incidents).toHaveLength(6);
    expect(incidents.find((i) => i.group_key.includes('svc-1'))).toMatchObject({
      status: 'resolved',
      firing: 0,
    });
    expect(await db.selectFrom('alerts_alert').select('fingerprint').execute()).toHaveLength(6);
  });

  it('a payload that cannot be stored fails alone: the others committed with it are kept', async () => {
    const { db, grouping: g } = await grouping();
    const bad = batch('svc-bad', 'fp-bad');
    // A title the store refuses (NOT NULL), as a failing disk or a broken row would be refused.
    (bad.alerts[0] as { title: unknown }).title = null;
    const results = await Promise.allSettled([
      g.ingest(batch('svc-a', 'fp-a')),
      g.ingest(bad),
      g.ingest(batch('svc-b', 'fp-b')),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const stored = await db.selectFrom('alerts_alert').select('fingerprint').orderBy('fingerprint').execute();
    expect(stored.map((r) => r.fingerprint)).toEqual(['fp-a', 'fp-b']);
    // Nothing of the refused payload is half stored (no incident without its alert).
    const keys = await db.selectFrom('alerts_incident').select('group_key').execute();
    expect(keys.map((k) => k.group_key).some((k) => k.includes('svc-bad'))).toBe(false);
  });

  it('share transactions when they arrive in the same turn of the event loop', async () => {
    const { db, grouping: g } = await grouping();
    const transactions = vi.spyOn(db, 'transaction');
    await Promise.all(Array.from({ length: 8 }, (_, i) => g.ingest(batch(`svc-${i}`, `fp-${i}`))));
    // One transaction for the eight (one commit, as the client waits for each).
    expect(transactions).toHaveBeenCalledTimes(1);
    await g.ingest(batch('svc-9', 'fp-9'));
    expect(transactions).toHaveBeenCalledTimes(2);
    expect(await db.selectFrom('alerts_alert').select('fingerprint').execute()).toHaveLength(9);
  });

  it('count every state change of an alert that flaps within one transaction', async () => {
    const { db, grouping: g } = await grouping();
    const states = ['firing', 'resolved', 'firing', 'resolved', 'firing'] as const;
    // One alert changing state five times, all arriving together (one transaction); each
    // change a new occurrence (a later start), so none is absorbed.
    await Promise.all(
      states.map((status, i) => {
        const b = batch('svc-flap', 'fp-flap', status);
        (b.alerts[0] as { startsAt: number }).startsAt = 1_000 + i;
        return g.ingest(b);
      }),
    );
    const alert = await db
      .selectFrom('alerts_alert')
      .select(['status', 'changes'])
      .where('fingerprint', '=', 'fp-flap')
      .executeTakeFirstOrThrow();
    expect(alert).toEqual({ status: 'firing', changes: 4 });
  });
});
