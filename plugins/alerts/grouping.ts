import { type Kysely, sql, type Transaction } from 'kysely';
import type { AlertsConfig } from './config.js';
import { countStateChange, type StateChanges } from './flapping.js';
import { GroupingState, type KnownAlert } from './grouping-state.js';
import type { IngestOutcome } from './incident.js';
import type { IncomingAlert, IngestBatch } from './model.js';
import { route } from './router.js';
import { type AlertsTables, num } from './tables.js';

/** Alerts committed in one transaction at most (a payload larger than this still goes whole). */
const GROUP_COMMIT_ALERTS = 1_000;

interface Pending {
  batch: IngestBatch;
  resolve: (outcome: IngestOutcome) => void;
  reject: (err: unknown) => void;
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
        const keys = group.flatMap((p) => p.batch.alerts.map((a) => this.groupKey(a, p.batch)));
        await this.lockGroups(trx, keys);
        // What the payloads may touch, read once; each payload's changes are applied to it
        // in order, so the next payload sees them; written back once.
        const state = await GroupingState.load(
          trx,
          group.flatMap((p) => p.batch.alerts.map((a) => a.fingerprint)),
          keys,
        );
        const out: IngestOutcome[] = [];
        for (const p of group) out.push(await this.apply(state, p.batch));
        await state.flush();
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
  private async lockGroups(trx: Transaction<AlertsTables>, groupKeys: string[]): Promise<void> {
    if (this.dialect !== 'postgres') return;
    const keys = [...new Set(groupKeys)].sort().map((key) => `dingops-incident:${key}`);
    // One round trip: unnest yields the keys in the array's (sorted) order, and the locks are
    // taken row by row in that order.
    await sql`select pg_advisory_xact_lock(hashtext(k)) from unnest(${keys}::text[]) as k`.execute(trx);
  }

  private async apply(state: GroupingState, batch: IngestBatch): Promise<IngestOutcome> {
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
      const row = state.alert(a.fingerprint);
      const prev = row && {
        status: row.status,
        startsAt: Number(row.starts_at),
        incidentId: num(row.incident_id),
      };
      if (a.status === 'firing') {
        // The same occurrence again after its resolve (HA duplicate, retry, late delivery): nothing new.
        if (prev?.status === 'resolved' && a.startsAt <= prev.startsAt) {
          absorbed++;
          continue;
        }
        if (prev?.status === 'firing' && prev.incidentId !== undefined) {
          // Still firing: in its open incident, or in one a person resolved by hand (the same
          // occurrence does not reopen it; a new one, with a later start, does).
          const incident = state.incident(prev.incidentId);
          const open = incident !== undefined && incident.status !== 'resolved';
          if (open || a.startsAt <= prev.startsAt) {
            state.saveAlert(batch.source, a, prev.incidentId, unchanged(row), now);
            absorbed++;
            continue;
          }
        }
        const incident = await this.incidentFor(state, a, batch, now);
        state.saveAlert(batch.source, a, incident, this.stateChange(state, row, incident, now), now);
        const t = touch(incident);
        t.joined.push(a);
        t.firing.push(a.title);
      } else {
        if (prev?.status === 'resolved' || (prev && a.startsAt < prev.startsAt)) {
          absorbed++;
          continue;
        }
        // A resolve for an alert never seen firing is kept, so its late firing is absorbed.
        const incident = prev?.incidentId;
        state.saveAlert(
          batch.source,
          a,
          incident,
          incident === undefined ? unchanged(row) : this.stateChange(state, row, incident, now),
          now,
        );
        if (incident !== undefined) touch(incident).resolved.push(a.title);
      }
    }
    // Once per incident, not per alert: a payload of 100 alerts is one recount.
    let nextDue: number | undefined;
    for (const [id, t] of touched) {
      if (t.firing.length) state.note(id, now, batch.source, 'alert.firing', names(t.firing));
      if (t.resolved.length) state.note(id, now, batch.source, 'alert.resolved', names(t.resolved));
      const due = await this.recount(state, id, now, t.joined);
      if (due !== undefined && (nextDue === undefined || due < nextDue)) nextDue = due;
    }
    return { accepted: batch.alerts.length - absorbed, absorbed, incidents: [...touched.keys()], nextDue };
  }

  /**
   * An alert that was stored changed state: counted for flapping, and enough changes within
   * the window mark its incident (once: the timeline says so the first time).
   */
  private stateChange(
    state: GroupingState,
    row: KnownAlert | undefined,
    incidentId: number,
    now: number,
  ): StateChanges {
    if (!row) return unchanged(row);
    const counted = countStateChange(this.config().flapping, row, now);
    if (counted.flapping && state.incident(incidentId)?.flapping === 0) {
      state.updateIncident(incidentId, { flapping: 1 });
      state.note(incidentId, now, 'dingops', 'flapping', `${counted.changes} state changes`);
    }
    return { changes: counted.changes, changes_since: counted.changes_since };
  }

  /** The open incident of the alert's group, created (and routed) when there is none. */
  private async incidentFor(
    state: GroupingState,
    a: IncomingAlert,
    batch: IngestBatch,
    now: number,
  ): Promise<number> {
    const key = this.groupKey(a, batch);
    const open = state.openIncidentOf(key);
    if (open !== undefined) return open;
    const config = this.config();
    const routed = route(config, a.labels);
    const destination = routed.groups.join(',');
    // Wait for the rest of the group before the first notification (Alertmanager's group_wait);
    // when another new incident for the same groups is already waiting, go out with it, so a
    // storm is one notification per destination per group_wait, not one per incident.
    const waiting = destination
      ? await state.waitingDue(destination, now, now + config.grouping.groupWait)
      : undefined;
    const id = await state.openIncident({
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
      notify_due_at: waiting ?? now + config.grouping.groupWait,
      last_notified_at: null,
    });
    state.note(id, now, batch.source, 'incident.triggered', a.title);
    return id;
  }

  private groupKey(a: IncomingAlert, batch: IngestBatch): string {
    const g = this.config().grouping;
    if (g.key === 'auto' && a.groupKey) return `${batch.source}:${a.groupKey}`;
    return `labels:{${g.by.map((l) => `${l}=${JSON.stringify(a.labels[l] ?? '')}`).join(',')}}`;
  }

  /**
   * Counts and severity of the incident's alerts, common labels kept as the intersection
   * with the alerts that joined; resolves the incident when nothing fires; schedules the next
   * notification (group_interval after the last one), and returns when that is.
   */
  private async recount(
    state: GroupingState,
    id: number,
    now: number,
    joined: IncomingAlert[],
  ): Promise<number | undefined> {
    const inc = state.incident(id);
    if (!inc) throw new Error(`incident ${id} is not part of this transaction`);
    const { firing, total, severity } = await state.counts(id);
    let labels = JSON.parse(inc.labels) as Record<string, string>;
    for (const a of joined) labels = intersect(labels, a.labels);
    const resolving = firing === 0 && inc.status !== 'resolved';
    const due = this.nextNotification(num(inc.notify_due_at), num(inc.last_notified_at), now);
    state.updateIncident(id, {
      firing,
      total,
      severity,
      labels: JSON.stringify(labels),
      updated_at: now,
      ...(resolving ? { status: 'resolved', resolved_at: now, escalation_due_at: null } : {}),
      notify_due_at: due,
    });
    if (resolving) state.note(id, now, 'dingops', 'incident.resolved', 'all alerts resolved');
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

/** The state-change count of an alert whose state did not change (a new alert: none yet). */
function unchanged(row: KnownAlert | undefined): StateChanges {
  return { changes: row?.changes ?? 0, changes_since: row?.changes_since ?? null };
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
