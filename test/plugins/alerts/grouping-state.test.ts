import { QueryCreator, sql } from 'kysely';
import { describe, expect, it, vi } from 'vitest';
import { migrateToLatest } from '../../../core/storage/migrations.js';
import { alertsConfigSchema } from '../../../plugins/alerts/config.js';
import { AlertGrouping } from '../../../plugins/alerts/grouping.js';
import { alertsMigrations } from '../../../plugins/alerts/migrations.js';
import type { IngestBatch, Severity } from '../../../plugins/alerts/model.js';
import type { AlertsTables } from '../../../plugins/alerts/tables.js';
import { useMigratedStore } from '../../helpers/storage.js';

const store = useMigratedStore();
const SEVERITIES = ['critical', 'warning', 'info'] as const;

/** A small deterministic generator (mulberry32), so a failure can be replayed. */
function random(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function setup() {
  const db = store().db.withTables<AlertsTables>();
  await migrateToLatest(db, 'alerts', alertsMigrations);
  const config = alertsConfigSchema.parse({ defaultRoute: { groups: ['ops'] } });
  let clock = 10_000;
  const grouping = new AlertGrouping(
    db,
    () => config,
    () => clock++,
    store().dialect,
  );
  return { db, grouping };
}

function alert(
  fingerprint: string,
  service: string,
  status: 'firing' | 'resolved',
  severity: Severity,
  startsAt: number,
) {
  return {
    fingerprint,
    status,
    labels: { alertname: 'Check', service, instance: fingerprint, severity },
    annotations: {},
    startsAt,
    links: [],
    groupKey: `{}:{service="${service}"}`,
    title: `Check ${fingerprint}`,
    severity,
  };
}

/** Every open incident's counts as a full count of its alerts finds them. */
async function countedFromScratch(db: Awaited<ReturnType<typeof setup>>['db']) {
  const rank: Record<string, number> = { critical: 3, warning: 2, info: 1 };
  const rows = await sql<{ id: number; status: string; severity: string; n: number }>`
    select i.id, a.status, a.severity, count(*) as n from alerts_incident i
    join alerts_alert a on a.incident_id = i.id where i.status != 'resolved'
    group by i.id, a.status, a.severity`.execute(db);
  const out = new Map<number, { firing: number; total: number; severity: string }>();
  const best = new Map<number, { firing: string; any: string }>();
  for (const r of rows.rows) {
    const id = Number(r.id);
    const o = out.get(id) ?? { firing: 0, total: 0, severity: 'info' };
    const b = best.get(id) ?? { firing: '', any: '' };
    o.total += Number(r.n);
    if (r.status === 'firing') {
      o.firing += Number(r.n);
      if (!b.firing || rank[r.severity]! > rank[b.firing]!) b.firing = r.severity;
    }
    if (!b.any || rank[r.severity]! > rank[b.any]!) b.any = r.severity;
    out.set(id, o);
    best.set(id, b);
  }
  for (const [id, o] of out) o.severity = best.get(id)!.firing || best.get(id)!.any;
  return out;
}

describe("an incident's counts, kept from transaction to transaction", () => {
  it('match a full count of its alerts after any mix of new alerts, repeats and resolves', async () => {
    const { db, grouping } = await setup();
    const next = random(19);
    let start = 1_000;
    // Mostly a new occurrence (a later start); sometimes the same one again.
    const nextStart = () => {
      if (next() < 0.8) start += 1;
      return start;
    };
    for (let burst = 0; burst < 60; burst++) {
      // 1-8 payloads at once (one transaction), each of 1-3 alerts from a pool of 24.
      const payloads: IngestBatch[] = Array.from({ length: 1 + Math.floor(next() * 8) }, () => ({
        source: 'alertmanager',
        truncated: 0,
        alerts: Array.from({ length: 1 + Math.floor(next() * 3) }, () => {
          const n = Math.floor(next() * 24);
          // Mostly firing, so incidents stay open and grow; a later start is a new occurrence.
          return alert(
            `fp-${n}`,
            `svc-${n % 3}`,
            next() < 0.65 ? 'firing' : 'resolved',
            // An alert's severity is one of its labels, so part of its fingerprint.
            SEVERITIES[Math.floor(n / 3) % 3] as Severity,
            nextStart(),
          );
        }),
      }));
      await Promise.all(payloads.map((p) => grouping.ingest(p)));
      const expected = await countedFromScratch(db);
      const stored = await db
        .selectFrom('alerts_incident')
        .select(['id', 'firing', 'total', 'severity'])
        .where('status', '!=', 'resolved')
        .execute();
      expect(stored.length, `burst ${burst}`).toBe(expected.size);
      for (const i of stored)
        expect(
          { firing: Number(i.firing), total: Number(i.total), severity: i.severity },
          `incident ${i.id} after burst ${burst}`,
        ).toEqual(expected.get(Number(i.id)));
    }
  });

  it('are not counted again while alerts only join; a resolve counts them once', async () => {
    const { db, grouping } = await setup();
    const firing = (fp: string, severity: Severity) => ({
      source: 'alertmanager' as const,
      truncated: 0,
      alerts: [alert(fp, 'api', 'firing', severity, 1_000)],
    });
    await grouping.ingest(firing('a', 'critical'));
    await grouping.ingest(firing('b', 'warning'));
    // Every read of the alerts table, in the transactions too.
    const selects = vi.spyOn(QueryCreator.prototype, 'selectFrom');
    const alertReads = () => selects.mock.calls.filter(([table]) => table === 'alerts_alert').length;
    await Promise.all([grouping.ingest(firing('c', 'info')), grouping.ingest(firing('d', 'warning'))]);
    // One transaction: it reads the alerts it is about to write, and counts nothing.
    expect(alertReads()).toBe(1);
    const incident = () =>
      db
        .selectFrom('alerts_incident')
        .select(['firing', 'total', 'severity', 'status'])
        .executeTakeFirstOrThrow();
    expect(await incident()).toEqual({ firing: 4, total: 4, severity: 'critical', status: 'triggered' });
    // The critical one resolves: the highest still firing is a warning.
    await grouping.ingest({
      source: 'alertmanager',
      truncated: 0,
      alerts: [alert('a', 'api', 'resolved', 'critical', 1_000)],
    });
    expect(await incident()).toEqual({ firing: 3, total: 4, severity: 'warning', status: 'triggered' });
    // That one counted them: the read of its alerts, and the count.
    expect(alertReads()).toBe(3);
    // All resolve at once: resolved, with the highest severity it had.
    await grouping.ingest({
      source: 'alertmanager',
      truncated: 0,
      alerts: ['b', 'c', 'd'].map((fp) => alert(fp, 'api', 'resolved', 'info', 1_000)),
    });
    expect(await incident()).toEqual({ firing: 0, total: 4, severity: 'critical', status: 'resolved' });
  });
});
