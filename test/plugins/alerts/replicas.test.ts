import { describe, expect, it } from 'vitest';
import { migrateToLatest } from '../../../core/storage/migrations.js';
import { alertsConfigSchema } from '../../../plugins/alerts/config.js';
import { AlertGrouping } from '../../../plugins/alerts/grouping.js';
import { alertsMigrations } from '../../../plugins/alerts/migrations.js';
import type { IngestBatch } from '../../../plugins/alerts/model.js';
import type { AlertsTables } from '../../../plugins/alerts/tables.js';
import { useMigratedStore } from '../../helpers/storage.js';

const store = useMigratedStore();

function batch(fingerprint: string): IngestBatch {
  return {
    source: 'alertmanager',
    truncated: 0,
    alerts: [
      {
        fingerprint,
        status: 'firing',
        labels: { alertname: 'HighLatency', service: 'api', instance: fingerprint },
        annotations: {},
        startsAt: 1_000,
        links: [],
        groupKey: '{}:{alertname="HighLatency"}',
        title: 'HighLatency',
        severity: 'warning',
      },
    ],
  };
}

describe('alerts received by several replicas at once', () => {
  it('make one incident per group, whichever replica stores them', async () => {
    const db = store().db.withTables<AlertsTables>();
    await migrateToLatest(db, 'alerts', alertsMigrations);
    const config = alertsConfigSchema.parse({ defaultRoute: { groups: ['ops'] } });
    const dialect = store().dialect;
    // Two replicas, each with its own grouping (no shared in-process lock), ingesting at once.
    const replicas = [0, 1].map(
      () =>
        new AlertGrouping(
          db,
          () => config,
          () => 5_000,
          dialect,
        ),
    );
    const outcomes = await Promise.all(
      Array.from({ length: 12 }, (_, i) => replicas[i % 2]?.ingest(batch(`fp-${i}`))),
    );
    expect(outcomes.every((o) => o?.accepted === 1)).toBe(true);
    const incidents = await db.selectFrom('alerts_incident').select(['id', 'total']).execute();
    expect(incidents).toHaveLength(1);
    const alerts = await db.selectFrom('alerts_alert').select('incident_id').execute();
    expect(new Set(alerts.map((a) => a.incident_id))).toEqual(new Set([incidents[0]?.id]));
  });
});
