import { type Kysely, sql, type Transaction } from 'kysely';
import type { AlertsConfig } from './config.js';
import { countStateChange, type StateChanges } from './flapping.js';
import type { IngestOutcome } from './incident.js';
import { addTimeline } from './incident-store.js';
import type { IncomingAlert, IngestBatch, Severity } from './model.js';
import { route } from './router.js';
import { type AlertsTables, alertColumns, num, toAlert } from './tables.js';

/** Alerts committed in one transaction at most (a payload larger than this still goes whole). */
const GROUP_COMMIT_ALERTS = 1_000;

interface Pending {
  batch: IngestBatch;
  resolve: (outcome: IngestOutcome) => void;
  reject: (err: unknown) => void;
}

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

/** An alert as it now is, to recognise it again later in the same transaction. */
function known(
  a: IncomingAlert,
  incidentId: number | undefined,
  before: StateChanges | undefined,
): KnownAlert {
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
  /** Payloads waiting for the next transaction (one transaction at a time in this process). */
  private readonly waiting: Pending[] = [];
  private committing = false;

  constructor(
    private readonly db: Kysely<AlertsTables>,
    private readonly config: () => AlertsConfig,
    private readonly now: () => number = Date.now,
    /** PostgreSQL: replicas ingest at once, so groups are locked (SQLite has one writer). */
    private readonly dialect: 'sqlite' | 'postgres' = 'sqlite',
  ) {}

  /**
   * Stores a payload; resolves once it is committed. One transaction at a time (two payloads
   * of one group must not both open an incident), and the payloads that arrive while one
   * commits are committed together in the next (group commit): a sender still hears 2xx only
   * after its alerts are stored, and a commit, the costly part of a one-alert payload, is
   * shared by all the senders waiting.
   */
  ingest(batch: IngestBatch): Promise<IngestOutcome> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ batch, resolve, reject });
      if (this.committing) return;
      this.committing = true;
      // SQLite answers without yielding to the event loop, so a transaction begun here would
      // end before the requests already read in this turn got their turn: start it once they
      // have (setImmediate runs after this turn's I/O callbacks) and commit them together.
      setImmediate(() => void this.commitWaiting());
    });
  }

  private async commitWaiting(): Promise<void> {
    try {
      while (this.waiting.length) await this.commit(this.nextGroup());
    } finally {
      this.committing = false;
    }
  }

  /** The waiting payloads of the next transaction: at least one, then up to GROUP_COMMIT_ALERTS alerts. */
  private nextGroup(): Pending[] {
    let alerts = 0;
    let n = 0;
    while (n < this.waiting.length) {
      const size = this.waiting[n]?.batch.alerts.length ?? 0;
      if (n > 0 && alerts + size > GROUP_COMMIT_ALERTS) break;
      alerts += size;
      n++;
    }
    return this.waiting.splice(0, n);
  }

  private async commit(group: Pending[]): Promise<void> {
    let outcomes: IngestOutcome[];
    try {
      outcomes = await this.db.transaction().execute(async (trx) => {
        await this.lockGroups(
          trx,
          group.map((p) => p.batch),
        );
        const out: IngestOutcome[] = [];
        // The stored state of every alert of the group, read once; each payload's changes
        // are written back to it, so the next payload sees them.
        const rows = await this.existing(
          trx,
          group.flatMap((p) => p.batch.alerts.map((a) => a.fingerprint)),
        );
        for (const p of group) out.push(await this.apply(trx, p.batch, rows));
        return out;
      });
    } catch (err) {
      if (group.length === 1) {
        group[0]?.reject(err);
        return;
      }
      // One payload that cannot be stored must not fail those committed with it: each again alone.
      for (const p of group) await this.commit([p]);
      return;
    }
    for (const [i, p] of group.entries()) p.resolve(outcomes[i] as IngestOutcome);
  }

  /**
   * PostgreSQL: another replica may be opening the incident of one of these groups right
   * now, so the groups are locked for the transaction, all at once and in one order (no
   * deadlock), and one incident per group comes out, whichever replica got the alert.
   * SQLite has one writer.
   */
  private async lockGroups(trx: Transaction<AlertsTables>, batches: IngestBatch[]): Promise<void> {
    if (this.dialect !== 'postgres') return;
    const keys = [...new Set(batches.flatMap((b) => b.alerts.map((a) => this.groupKey(a, b))))].sort();
    for (const key of keys)
      await sql`select pg_advisory_xact_lock(hashtext(${`dingops-incident:${key}`}))`.execute(trx);
  }

  private async apply(
    trx: Transaction<AlertsTables>,
    batch: IngestBatch,
    rows: Map<string, KnownAlert>,
  ): Promise<IngestOutcome> {
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
            rows.set(a.fingerprint, known(a, prev.incidentId, row));
            absorbed++;
            continue;
          }
        }
        const incident = await this.incidentFor(trx, a, batch, now);
        await this.saveAlert(trx, batch.source, a, incident, now, !row);
        const counted = row
          ? await countStateChange(trx, this.config().flapping, row, incident, now)
          : undefined;
        rows.set(a.fingerprint, known(a, incident, counted ?? row));
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
        let counted: StateChanges | undefined;
        if (prev?.incidentId !== undefined) {
          if (row) counted = await countStateChange(trx, this.config().flapping, row, prev.incidentId, now);
          touch(prev.incidentId).resolved.push(a.title);
        }
        rows.set(a.fingerprint, known(a, prev?.incidentId, counted ?? row));
      }
    }
    // Once per incident, not per alert: a payload of 100 alerts is one recount.
    let nextDue: number | undefined;
    for (const [id, t] of touched) {
      if (t.firing.length) await addTimeline(trx, id, now, batch.source, 'alert.firing', names(t.firing));
      if (t.resolved.length)
        await addTimeline(trx, id, now, batch.source, 'alert.resolved', names(t.resolved));
      const due = await this.recount(trx, id, now, t.joined);
      if (due !== undefined && (nextDue === undefined || due < nextDue)) nextDue = due;
    }
    return { accepted: batch.alerts.length - absorbed, absorbed, incidents: [...touched.keys()], nextDue };
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
   * fires; schedules the next notification (group_interval after the last one), and
   * returns when that is.
   */
  private async recount(
    trx: Transaction<AlertsTables>,
    id: number,
    now: number,
    joined: IncomingAlert[],
  ): Promise<number | undefined> {
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
    return due;
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
