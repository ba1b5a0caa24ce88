import { type Kysely, sql, type Transaction } from 'kysely';
import type { AlertsConfig } from './config.js';
import { countStateChange } from './flapping.js';
import type { IngestOutcome } from './incident.js';
import { addTimeline } from './incident-store.js';
import type { IncomingAlert, IngestBatch, Severity } from './model.js';
import { route } from './router.js';
import { type AlertsTables, alertColumns, num, toAlert } from './tables.js';

const SEVERITY_RANK: Record<Severity, number> = { critical: 3, warning: 2, info: 1 };

/** The columns of a stored alert that grouping reads to decide what an incoming one changes. */
const KNOWN_COLUMNS = [
  'fingerprint',
  'incident_id',
  'status',
  'title',
  'severity',
  'labels',
  'annotations',
  'links',
  'starts_at',
  'ends_at',
  'changes',
  'changes_since',
] as const;
type KnownAlert = ReturnType<typeof alertColumns> & {
  fingerprint: string;
  changes: number;
  changes_since: number | null;
};

/** An alert as it now is, to recognise it again later in the same payload. */
function known(a: IncomingAlert, incidentId: number | undefined, before: KnownAlert | undefined): KnownAlert {
  return {
    fingerprint: a.fingerprint,
    ...alertColumns(a, incidentId),
    changes: before?.changes ?? 0,
    changes_since: before?.changes_since ?? null,
  };
}

/**
 * Turns incoming alerts into incidents: finds each alert's group (Alertmanager's group key or
 * the configured labels), opens and routes an incident for a new group, absorbs duplicates and
 * out-of-order events, counts flapping, recounts what changed and schedules its notification
 * (group_wait, group_interval). A whole payload is one transaction, so the sender's 2xx means
 * every alert is stored.
 */
export class AlertGrouping {
  /** One ingest at a time in this process: two payloads of one group must not both open an incident. */
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly db: Kysely<AlertsTables>,
    private readonly config: () => AlertsConfig,
    private readonly now: () => number = Date.now,
    /** PostgreSQL: replicas ingest at once, so groups are locked (SQLite has one writer). */
    private readonly dialect: 'sqlite' | 'postgres' = 'sqlite',
  ) {}

  ingest(batch: IngestBatch): Promise<IngestOutcome> {
    const run = this.chain.then(() => this.db.transaction().execute((trx) => this.apply(trx, batch)));
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async apply(trx: Transaction<AlertsTables>, batch: IngestBatch): Promise<IngestOutcome> {
    const now = this.now();
    // Per incident touched: the alerts that joined (for common labels) and what to tell the timeline.
    const touched = new Map<number, { joined: IncomingAlert[]; firing: string[]; resolved: string[] }>();
    const touch = (id: number) => {
      let t = touched.get(id);
      if (!t) {
        t = { joined: [], firing: [], resolved: [] };
        touched.set(id, t);
      }
      return t;
    };
    if (this.dialect === 'postgres') {
      // Another replica may be opening the incident of one of these groups right now: the
      // groups are locked for this transaction, in one order (no deadlock), so one incident
      // per group comes out, whichever replica got the alert.
      const keys = [...new Set(batch.alerts.map((a) => this.groupKey(a, batch)))].sort();
      for (const key of keys)
        await sql`select pg_advisory_xact_lock(hashtext(${`dingops-incident:${key}`}))`.execute(trx);
    }
    const rows = await this.existing(
      trx,
      batch.alerts.map((a) => a.fingerprint),
    );
    let absorbed = 0;
    for (const a of batch.alerts) {
      const row = rows.get(a.fingerprint);
      const prev = row ? toAlert(row) : undefined;
      if (a.status === 'firing') {
        // The same occurrence again after its resolve (HA duplicate, retry, late delivery): nothing new.
        if (prev?.status === 'resolved' && a.startsAt <= prev.startsAt) {
          absorbed++;
          continue;
        }
        if (prev?.status === 'firing' && prev.incidentId !== undefined) {
          // Still firing: in its open incident, or in one a person resolved by hand (the same
          // occurrence does not reopen it; a new one, with a later start, does).
          const open = await this.openIncident(trx, prev.incidentId);
          if (open || a.startsAt <= prev.startsAt) {
            await this.saveAlert(trx, batch.source, a, prev.incidentId, now, false);
            absorbed++;
            continue;
          }
        }
        const incident = await this.incidentFor(trx, a, batch, now);
        await this.saveAlert(trx, batch.source, a, incident, now, !row);
        if (row) await countStateChange(trx, this.config().flapping, row, incident, now);
        rows.set(a.fingerprint, known(a, incident, row));
        const t = touch(incident);
        t.joined.push(a);
        t.firing.push(a.title);
      } else {
        if (prev?.status === 'resolved' || (prev && a.startsAt < prev.startsAt)) {
          absorbed++;
          continue;
        }
        // A resolve for an alert never seen firing is kept, so its late firing is absorbed.
        await this.saveAlert(trx, batch.source, a, prev?.incidentId, now, !row);
        rows.set(a.fingerprint, known(a, prev?.incidentId, row));
        if (prev?.incidentId !== undefined) {
          if (row) await countStateChange(trx, this.config().flapping, row, prev.incidentId, now);
          touch(prev.incidentId).resolved.push(a.title);
        }
      }
    }
    // Once per incident, not per alert: a payload of 100 alerts is one recount.
    for (const [id, t] of touched) {
      if (t.firing.length) await addTimeline(trx, id, now, batch.source, 'alert.firing', names(t.firing));
      if (t.resolved.length)
        await addTimeline(trx, id, now, batch.source, 'alert.resolved', names(t.resolved));
      await this.recount(trx, id, now, t.joined);
    }
    return { accepted: batch.alerts.length - absorbed, absorbed, incidents: [...touched.keys()] };
  }

  /** The stored rows of these fingerprints (read in chunks: SQL parameter limits). */
  private async existing(
    trx: Transaction<AlertsTables>,
    fingerprints: string[],
  ): Promise<Map<string, KnownAlert>> {
    const out = new Map<string, KnownAlert>();
    const unique = [...new Set(fingerprints)];
    for (let i = 0; i < unique.length; i += 500) {
      const rows = await trx
        .selectFrom('alerts_alert')
        .select([...KNOWN_COLUMNS])
        .where('fingerprint', 'in', unique.slice(i, i + 500))
        .execute();
      for (const r of rows) out.set(r.fingerprint, r);
    }
    return out;
  }

  private async openIncident(trx: Transaction<AlertsTables>, id: number): Promise<boolean> {
    const r = await trx
      .selectFrom('alerts_incident')
      .select('status')
      .where('id', '=', id)
      .executeTakeFirst();
    return r !== undefined && r.status !== 'resolved';
  }

  /** The open incident of the alert's group, created (and routed) when there is none. */
  private async incidentFor(
    trx: Transaction<AlertsTables>,
    a: IncomingAlert,
    batch: IngestBatch,
    now: number,
  ): Promise<number> {
    const key = this.groupKey(a, batch);
    const open = await trx
      .selectFrom('alerts_incident')
      .select('id')
      .where('group_key', '=', key)
      .where('status', '!=', 'resolved')
      .orderBy('id', 'desc')
      .executeTakeFirst();
    if (open) return Number(open.id);
    const config = this.config();
    const routed = route(config, a.labels);
    const destination = routed.groups.join(',');
    // Wait for the rest of the group before the first notification (Alertmanager's group_wait);
    // when another new incident for the same groups is already waiting, go out with it, so a
    // storm is one notification per destination per group_wait, not one per incident.
    const waiting = await trx
      .selectFrom('alerts_incident')
      .select((eb) => eb.fn.min('notify_due_at').as('due'))
      .where('destination_key', '=', destination)
      .where('last_notified_at', 'is', null)
      .where('status', '=', 'triggered')
      .where('notify_due_at', '>', now)
      // Only a group_wait in progress (a claimed one is pushed a repeat_interval away).
      .where('notify_due_at', '<=', now + config.grouping.groupWait)
      .executeTakeFirst();
    const due = destination && waiting?.due != null ? Number(waiting.due) : now + config.grouping.groupWait;
    const inserted = await trx
      .insertInto('alerts_incident')
      .values({
        group_key: key,
        title: a.title,
        severity: a.severity,
        status: 'triggered',
        labels: JSON.stringify(a.labels),
        route: JSON.stringify(routed),
        destination_key: destination,
        firing: 0,
        total: 0,
        created_at: now,
        updated_at: now,
        notify_due_at: due,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const id = Number(inserted.id);
    await addTimeline(trx, id, now, batch.source, 'incident.triggered', a.title);
    return id;
  }

  private groupKey(a: IncomingAlert, batch: IngestBatch): string {
    const g = this.config().grouping;
    if (g.key === 'auto' && a.groupKey) return `${batch.source}:${a.groupKey}`;
    return `labels:{${g.by.map((l) => `${l}=${JSON.stringify(a.labels[l] ?? '')}`).join(',')}}`;
  }

  private async saveAlert(
    trx: Transaction<AlertsTables>,
    source: string,
    a: IncomingAlert,
    incidentId: number | undefined,
    now: number,
    insert: boolean,
  ) {
    const values = { ...alertColumns(a, incidentId), updated_at: now };
    if (insert)
      await trx
        .insertInto('alerts_alert')
        .values({ fingerprint: a.fingerprint, source, ...values })
        .execute();
    else await trx.updateTable('alerts_alert').set(values).where('fingerprint', '=', a.fingerprint).execute();
  }

  /**
   * Counts and severity from the incident's alerts (aggregated in SQL), common labels kept
   * as the intersection with the alerts that joined; resolves the incident when nothing
   * fires; schedules the next notification (group_interval after the last one).
   */
  private async recount(
    trx: Transaction<AlertsTables>,
    id: number,
    now: number,
    joined: IncomingAlert[],
  ): Promise<void> {
    const groups = await trx
      .selectFrom('alerts_alert')
      .select(['status', 'severity', (eb) => eb.fn.countAll().as('n')])
      .where('incident_id', '=', id)
      .groupBy(['status', 'severity'])
      .execute();
    const inc = await trx
      .selectFrom('alerts_incident')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    const total = groups.reduce((s, g) => s + Number(g.n), 0);
    const firingGroups = groups.filter((g) => g.status === 'firing');
    const firing = firingGroups.reduce((s, g) => s + Number(g.n), 0);
    const severity = (firingGroups.length ? firingGroups : groups).reduce<Severity>(
      (s, g) => (SEVERITY_RANK[g.severity as Severity] > SEVERITY_RANK[s] ? (g.severity as Severity) : s),
      'info',
    );
    let labels = JSON.parse(inc.labels) as Record<string, string>;
    for (const a of joined) labels = intersect(labels, a.labels);
    const resolved = firing === 0;
    const due = this.nextNotification(num(inc.notify_due_at), num(inc.last_notified_at), now);
    await trx
      .updateTable('alerts_incident')
      .set({
        firing,
        total,
        severity,
        labels: JSON.stringify(labels),
        updated_at: now,
        ...(resolved && inc.status !== 'resolved'
          ? { status: 'resolved', resolved_at: now, escalation_due_at: null }
          : {}),
        notify_due_at: due,
      })
      .where('id', '=', id)
      .execute();
    if (resolved && inc.status !== 'resolved')
      await addTimeline(trx, id, now, 'dingops', 'incident.resolved', 'all alerts resolved');
  }

  /**
   * When a change should be told. Never told yet: at the end of the group_wait in progress,
   * else now. Told before: group_interval after that, unless something is due sooner (a
   * pending reminder is a repeat_interval away and must not hold the change back).
   */
  private nextNotification(
    pending: number | undefined,
    lastNotified: number | undefined,
    now: number,
  ): number {
    const g = this.config().grouping;
    if (lastNotified === undefined)
      return pending !== undefined && pending <= now + g.groupWait ? pending : now;
    return Math.min(pending ?? Number.POSITIVE_INFINITY, Math.max(now, lastNotified + g.groupInterval));
  }
}

function intersect(a: Record<string, string>, b: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(a)) if (b[k] === v) out[k] = v;
  return out;
}

/** Up to ten names for the timeline, and how many more. */
function names(list: string[]): string {
  const unique = [...new Set(list)];
  return `${list.length}: ${unique.slice(0, 10).join(', ')}${unique.length > 10 ? ` +${unique.length - 10}` : ''}`;
}
