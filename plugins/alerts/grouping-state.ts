import type { Insertable, Selectable, Transaction } from 'kysely';
import type { StateChanges } from './flapping.js';
import type { IncomingAlert, Severity } from './model.js';
import { type AlertsTables, alertColumns, num } from './tables.js';

/** Rows per multi-row statement (within SQLite's and PostgreSQL's parameter limits). */
const CHUNK = 400;

/**
 * The columns of a stored alert that decide what an incoming one changes (not its labels,
 * annotations or links: a repeat, what Alertmanager sends every group_interval, overwrites them).
 */
const KNOWN_COLUMNS = [
  'fingerprint',
  'incident_id',
  'status',
  'severity',
  'starts_at',
  'changes',
  'changes_since',
] as const;

export type KnownAlert = Pick<
  Selectable<AlertsTables['alerts_alert']>,
  Exclude<(typeof KNOWN_COLUMNS)[number], 'changes'>
> &
  StateChanges;
/** The columns of an incident that grouping reads (not its route, room or escalation). */
const INCIDENT_COLUMNS = [
  'id',
  'group_key',
  'severity',
  'status',
  'labels',
  'destination_key',
  'firing',
  'total',
  'notify_due_at',
  'last_notified_at',
  'flapping',
] as const;
export type IncidentRead = Pick<
  Selectable<AlertsTables['alerts_incident']>,
  (typeof INCIDENT_COLUMNS)[number]
>;
type IncidentPatch = Partial<Omit<Selectable<AlertsTables['alerts_incident']>, 'id'>>;
type NewIncident = Omit<
  Insertable<AlertsTables['alerts_incident']>,
  'id' | 'flapping' | 'room' | 'room_conversation'
>;
type AlertWrite = ReturnType<typeof alertColumns> &
  StateChanges & { fingerprint: string; source: string; updated_at: number };
type TimelineWrite = { incident_id: number; at: number; actor: string; kind: string; detail: string };

/** Alerts by status and severity. */
type AlertCounts = Record<'firing' | 'resolved', Record<Severity, number>>;

/** What an incident's card and its resolve follow from. */
export interface IncidentCounts {
  firing: number;
  total: number;
  /** The highest severity still firing; when nothing fires, the highest of all. */
  severity: Severity;
}

/** Highest first. */
const SEVERITIES: Severity[] = ['critical', 'warning', 'info'];

const noCounts = (): AlertCounts => ({
  firing: { critical: 0, warning: 0, info: 0 },
  resolved: { critical: 0, warning: 0, info: 0 },
});

const sum = (by: Record<Severity, number>) => SEVERITIES.reduce((n, s) => n + by[s], 0);

interface WorkingIncident {
  row: IncidentRead;
  /** Its counts when the transaction began, as stored. */
  stored: IncidentCounts;
  /** What this transaction's alert writes changed. */
  delta: AlertCounts;
  /** Its alerts counted in the store (at the transaction's start), once a count needs them. */
  counted?: AlertCounts;
}

/**
 * What one grouping transaction works on: the alerts and incidents it may touch, read once at
 * its start; every payload's changes applied here in memory, in order, so each payload sees
 * the ones before it; and written back once at its end (one multi-row upsert for the alerts,
 * one insert for the timeline, one update per changed incident). A single-alert webhook used
 * to cost seven statements, each built and compiled by Kysely; eight of them committed
 * together now cost about fourteen in all (PostgreSQL: a round trip each).
 *
 * Only a new incident is written at once (its id is needed). Each alert written moves its
 * incident's counts (see `counts`).
 */
export class GroupingState {
  private readonly incidents = new Map<number, WorkingIncident>();
  private readonly alertWrites = new Map<string, AlertWrite>();
  private readonly incidentWrites = new Map<number, IncidentPatch>();
  private readonly timelineWrites: TimelineWrite[] = [];

  private constructor(
    private readonly trx: Transaction<AlertsTables>,
    private readonly alerts: Map<string, KnownAlert>,
  ) {}

  /** Reads the alerts with these fingerprints, the open incidents of these group keys, and the incidents those alerts are in. */
  static async load(
    trx: Transaction<AlertsTables>,
    fingerprints: string[],
    groupKeys: string[],
  ): Promise<GroupingState> {
    const alerts = new Map<string, KnownAlert>();
    for (const chunk of chunks([...new Set(fingerprints)])) {
      const rows = await trx
        .selectFrom('alerts_alert')
        .select([...KNOWN_COLUMNS])
        .where('fingerprint', 'in', chunk)
        .execute();
      for (const r of rows) alerts.set(r.fingerprint, { ...r, changes: Number(r.changes) });
    }
    const state = new GroupingState(trx, alerts);
    const ids = [...new Set([...alerts.values()].flatMap((a) => num(a.incident_id) ?? []))];
    for (const chunk of chunks([...new Set(groupKeys)]))
      state.remember(
        await trx
          .selectFrom('alerts_incident')
          .select([...INCIDENT_COLUMNS])
          .where('group_key', 'in', chunk)
          .where('status', '!=', 'resolved')
          .execute(),
      );
    const unread = ids.filter((id) => !state.incidents.has(id));
    for (const chunk of chunks(unread))
      state.remember(
        await trx
          .selectFrom('alerts_incident')
          .select([...INCIDENT_COLUMNS])
          .where('id', 'in', chunk)
          .execute(),
      );
    return state;
  }

  private remember(rows: IncidentRead[]): void {
    for (const row of rows)
      this.incidents.set(Number(row.id), {
        row,
        stored: { firing: Number(row.firing), total: Number(row.total), severity: row.severity },
        delta: noCounts(),
      });
  }

  /** The alert as stored, with this transaction's changes. */
  alert(fingerprint: string): KnownAlert | undefined {
    return this.alerts.get(fingerprint);
  }

  /** The incident as stored, with this transaction's changes. */
  incident(id: number): IncidentRead | undefined {
    return this.incidents.get(id)?.row;
  }

  /**
   * The incident's counts with this transaction's changes. While alerts only join (a new
   * alert firing, one firing again), they follow from the stored counts, which every change
   * keeps (only grouping changes an incident's alerts). Once one leaves a state or a severity
   * (a resolve), the highest severity left cannot be known from the stored counts: its alerts
   * are counted in the store, once per transaction (the writes are still to come, so the
   * count is the transaction's start, and this transaction's changes are added to it). A
   * storm's incident with thousands of alerts used to be counted after every payload.
   */
  async counts(id: number): Promise<IncidentCounts> {
    const w = this.incidents.get(id);
    if (!w) throw new Error(`incident ${id} is not part of this transaction`);
    const { stored, delta } = w;
    const decreased = (['firing', 'resolved'] as const).some((st) =>
      SEVERITIES.some((s) => delta[st][s] < 0),
    );
    // Counts that say nothing fires yet some alerts are there: no severity to start from.
    if (!w.counted && !decreased && (stored.firing > 0 || stored.total === 0)) {
      const firing = stored.firing + sum(delta.firing);
      const highest =
        SEVERITIES.find((s) => (stored.firing > 0 && s === stored.severity) || delta.firing[s] > 0) ??
        SEVERITIES.find((s) => delta.resolved[s] > 0);
      return {
        firing,
        total: stored.total + sum(delta.firing) + sum(delta.resolved),
        severity: highest ?? 'info',
      };
    }
    w.counted ??= await this.countAlerts(id);
    const now = noCounts();
    for (const st of ['firing', 'resolved'] as const)
      for (const s of SEVERITIES) now[st][s] = w.counted[st][s] + delta[st][s];
    const firing = sum(now.firing);
    return {
      firing,
      total: firing + sum(now.resolved),
      severity:
        SEVERITIES.find((s) => now.firing[s] > 0) ?? SEVERITIES.find((s) => now.resolved[s] > 0) ?? 'info',
    };
  }

  private async countAlerts(id: number): Promise<AlertCounts> {
    const counted = noCounts();
    const rows = await this.trx
      .selectFrom('alerts_alert')
      .select(['status', 'severity', (eb) => eb.fn.countAll().as('n')])
      .where('incident_id', '=', id)
      .groupBy(['status', 'severity'])
      .execute();
    for (const r of rows) counted[r.status][r.severity] += Number(r.n);
    return counted;
  }

  /** The newest open incident of a group, as `order by id desc` found it. */
  openIncidentOf(groupKey: string): number | undefined {
    let newest: number | undefined;
    for (const [id, { row }] of this.incidents)
      if (row.group_key === groupKey && row.status !== 'resolved' && (newest === undefined || id > newest))
        newest = id;
    return newest;
  }

  /**
   * The earliest first notification already waiting for this destination within the
   * group_wait (`> now`, `<= until`): from the store, with this transaction's incidents as
   * they now are.
   */
  async waitingDue(destination: string, now: number, until: number): Promise<number | undefined> {
    const waiting = (r: IncidentRead) => {
      const due = num(r.notify_due_at);
      return r.last_notified_at === null &&
        r.status === 'triggered' &&
        due !== undefined &&
        due > now &&
        due <= until
        ? due
        : undefined;
    };
    const stored = await this.trx
      .selectFrom('alerts_incident')
      .select(['id', 'notify_due_at'])
      .where('destination_key', '=', destination)
      .where('last_notified_at', 'is', null)
      .where('status', '=', 'triggered')
      .where('notify_due_at', '>', now)
      // Only a group_wait in progress (a claimed one is pushed a repeat_interval away).
      .where('notify_due_at', '<=', until)
      .execute();
    let earliest: number | undefined;
    const consider = (due: number | undefined) => {
      if (due !== undefined && (earliest === undefined || due < earliest)) earliest = due;
    };
    for (const r of stored) if (!this.incidents.has(Number(r.id))) consider(num(r.notify_due_at));
    for (const { row } of this.incidents.values())
      if (row.destination_key === destination) consider(waiting(row));
    return earliest;
  }

  /** Inserts a new incident now (its id is needed) and works on it from here. */
  async openIncident(values: NewIncident & Omit<IncidentRead, 'id' | 'flapping'>): Promise<number> {
    const inserted = await this.trx
      .insertInto('alerts_incident')
      .values(values)
      .returning('id')
      .executeTakeFirstOrThrow();
    const id = Number(inserted.id);
    // The columns grouping reads come along with the rest; the rest are never written back.
    this.remember([{ ...values, id, flapping: 0 }]);
    return id;
  }

  /** Changes an incident (written at the end). */
  updateIncident(id: number, patch: IncidentPatch): void {
    const working = this.incidents.get(id);
    if (!working) throw new Error(`incident ${id} is not part of this transaction`);
    Object.assign(working.row, patch);
    this.incidentWrites.set(id, { ...this.incidentWrites.get(id), ...patch });
  }

  /** Stores an alert as it now is (written at the end), moving it in its incidents' counts. */
  saveAlert(
    source: string,
    a: IncomingAlert,
    incidentId: number | undefined,
    changes: StateChanges,
    now: number,
  ): void {
    const before = this.alerts.get(a.fingerprint);
    if (before) this.count(before, -1);
    const columns = alertColumns(a, incidentId);
    const after: KnownAlert = {
      fingerprint: a.fingerprint,
      incident_id: columns.incident_id,
      status: a.status,
      severity: a.severity,
      starts_at: a.startsAt,
      ...changes,
    };
    this.count(after, 1);
    this.alerts.set(a.fingerprint, after);
    // The first source stays the alert's source, as an update never changed it.
    const source0 = this.alertWrites.get(a.fingerprint)?.source ?? source;
    this.alertWrites.set(a.fingerprint, {
      fingerprint: a.fingerprint,
      ...columns,
      ...changes,
      source: source0,
      updated_at: now,
    });
  }

  private count(a: KnownAlert, by: 1 | -1): void {
    const id = num(a.incident_id);
    const delta = id === undefined ? undefined : this.incidents.get(id)?.delta;
    if (delta) delta[a.status][a.severity] += by;
  }

  /** Adds a line to an incident's timeline (written at the end, in this order). */
  note(incidentId: number, at: number, actor: string, kind: string, detail: string): void {
    this.timelineWrites.push({ incident_id: incidentId, at, actor, kind, detail });
  }

  /** Writes what changed. */
  async flush(): Promise<void> {
    for (const chunk of chunks([...this.alertWrites.values()]))
      await this.trx
        .insertInto('alerts_alert')
        .values(chunk)
        .onConflict((oc) =>
          oc.column('fingerprint').doUpdateSet((eb) => ({
            incident_id: eb.ref('excluded.incident_id'),
            status: eb.ref('excluded.status'),
            title: eb.ref('excluded.title'),
            severity: eb.ref('excluded.severity'),
            labels: eb.ref('excluded.labels'),
            annotations: eb.ref('excluded.annotations'),
            links: eb.ref('excluded.links'),
            starts_at: eb.ref('excluded.starts_at'),
            ends_at: eb.ref('excluded.ends_at'),
            updated_at: eb.ref('excluded.updated_at'),
            changes: eb.ref('excluded.changes'),
            changes_since: eb.ref('excluded.changes_since'),
          })),
        )
        .execute();
    for (const [id, patch] of this.incidentWrites)
      await this.trx.updateTable('alerts_incident').set(patch).where('id', '=', id).execute();
    for (const chunk of chunks(this.timelineWrites))
      await this.trx.insertInto('alerts_timeline').values(chunk).execute();
  }
}

function* chunks<T>(list: T[]): Generator<T[]> {
  for (let i = 0; i < list.length; i += CHUNK) yield list.slice(i, i + CHUNK);
}
