import type { Kysely, Transaction } from 'kysely';
import type { AlertsConfig } from './config.js';
import type { IncidentStatus, IncomingAlert, IngestBatch, Severity } from './model.js';
import { type RouteResult, route } from './router.js';

export interface Incident {
  id: number;
  groupKey: string;
  title: string;
  severity: Severity;
  status: IncidentStatus;
  labels: Record<string, string>;
  route: RouteResult;
  firing: number;
  total: number;
  ackedBy?: string;
  snoozedUntil?: number;
  createdAt: number;
  updatedAt: number;
  resolvedAt?: number;
  notifyDueAt?: number;
  lastNotifiedAt?: number;
  escalationLevel?: number;
  escalationRound?: number;
  escalationDueAt?: number;
  flapping: boolean;
}

export interface StoredAlert {
  fingerprint: string;
  incidentId?: number;
  status: 'firing' | 'resolved';
  title: string;
  severity: Severity;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  links: Array<{ title: string; url: string }>;
  startsAt: number;
  endsAt?: number;
}

export interface TimelineEntry {
  at: number;
  actor: string;
  kind: string;
  detail: string;
}

export interface IngestOutcome {
  accepted: number;
  /** Duplicates and out-of-order events that changed nothing. */
  absorbed: number;
  /** Incidents created or changed. */
  incidents: number[];
}

const SEVERITY_RANK: Record<Severity, number> = { critical: 3, warning: 2, info: 1 };
const num = (v: unknown) => (v === null || v === undefined ? undefined : Number(v));

/**
 * The plugin's tables: alerts (by fingerprint), incidents, their timelines. `ingest` applies
 * a whole payload in one transaction, so the sender's 2xx means every alert is stored.
 */
export class IncidentStore {
  /** One ingest at a time in this process: two payloads of one group must not both open an incident. */
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly db: Kysely<any>,
    private readonly config: () => AlertsConfig,
    private readonly now: () => number = Date.now,
  ) {}

  ingest(batch: IngestBatch): Promise<IngestOutcome> {
    const run = this.chain.then(() => this.db.transaction().execute((trx) => this.apply(trx, batch)));
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async apply(trx: Transaction<any>, batch: IngestBatch): Promise<IngestOutcome> {
    const now = this.now();
    const changed = new Set<number>();
    let absorbed = 0;
    for (const a of batch.alerts) {
      const row = await trx
        .selectFrom('alerts_alert')
        .selectAll()
        .where('fingerprint', '=', a.fingerprint)
        .executeTakeFirst();
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
        if (prev) await this.countChange(trx, a.fingerprint, row!, incident, now);
        await this.timeline(trx, incident, now, batch.source, 'alert.firing', a.title);
        await this.recount(trx, incident, now);
        changed.add(incident);
      } else {
        if (prev?.status === 'resolved' || (prev && a.startsAt < prev.startsAt)) {
          absorbed++;
          continue;
        }
        // A resolve for an alert never seen firing is kept, so its late firing is absorbed.
        await this.saveAlert(trx, batch.source, a, prev?.incidentId, now, !row);
        if (prev?.incidentId !== undefined)
          await this.countChange(trx, a.fingerprint, row!, prev.incidentId, now);
        if (prev?.incidentId !== undefined) {
          await this.timeline(trx, prev.incidentId, now, batch.source, 'alert.resolved', a.title);
          await this.recount(trx, prev.incidentId, now);
          changed.add(prev.incidentId);
        }
      }
    }
    return { accepted: batch.alerts.length - absorbed, absorbed, incidents: [...changed] };
  }

  /**
   * Counts an alert's state change; enough changes within the flapping window mark its
   * incident as flapping (shown on the card, no reminders).
   */
  private async countChange(
    trx: Transaction<any>,
    fingerprint: string,
    row: Record<string, any>,
    incidentId: number,
    now: number,
  ): Promise<void> {
    const f = this.config().flapping;
    const since = num(row.changes_since);
    const fresh = since === undefined || now - since > f.window;
    const changes = fresh ? 1 : Number(row.changes) + 1;
    await trx
      .updateTable('alerts_alert')
      .set({ changes, changes_since: fresh ? now : since })
      .where('fingerprint', '=', fingerprint)
      .execute();
    if (changes < f.changes) return;
    const r = await trx
      .updateTable('alerts_incident')
      .set({ flapping: 1 })
      .where('id', '=', incidentId)
      .where('flapping', '=', 0)
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) === 1)
      await this.timeline(trx, incidentId, now, 'dingops', 'flapping', `${changes} state changes`);
  }

  private async openIncident(trx: Transaction<any>, id: number): Promise<boolean> {
    const r = await trx
      .selectFrom('alerts_incident')
      .select('status')
      .where('id', '=', id)
      .executeTakeFirst();
    return r !== undefined && r.status !== 'resolved';
  }

  /** The open incident of the alert's group, created (and routed) when there is none. */
  private async incidentFor(
    trx: Transaction<any>,
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
    await this.timeline(trx, id, now, batch.source, 'incident.triggered', a.title);
    return id;
  }

  private groupKey(a: IncomingAlert, batch: IngestBatch): string {
    const g = this.config().grouping;
    if (g.key === 'auto' && a.groupKey) return `${batch.source}:${a.groupKey}`;
    return `labels:{${g.by.map((l) => `${l}=${JSON.stringify(a.labels[l] ?? '')}`).join(',')}}`;
  }

  private async saveAlert(
    trx: Transaction<any>,
    source: string,
    a: IncomingAlert,
    incidentId: number | undefined,
    now: number,
    insert: boolean,
  ) {
    const values = {
      incident_id: incidentId ?? null,
      status: a.status,
      title: a.title,
      severity: a.severity,
      labels: JSON.stringify(a.labels),
      annotations: JSON.stringify(a.annotations),
      links: JSON.stringify(a.links),
      starts_at: a.startsAt,
      ends_at: a.endsAt ?? null,
      updated_at: now,
    };
    if (insert)
      await trx
        .insertInto('alerts_alert')
        .values({ fingerprint: a.fingerprint, source, ...values })
        .execute();
    else await trx.updateTable('alerts_alert').set(values).where('fingerprint', '=', a.fingerprint).execute();
  }

  /**
   * Counts, severity and common labels from the incident's alerts; resolves it when nothing
   * fires; schedules the next notification (group_interval after the last one).
   */
  private async recount(trx: Transaction<any>, id: number, now: number): Promise<void> {
    const alerts = (
      await trx.selectFrom('alerts_alert').selectAll().where('incident_id', '=', id).execute()
    ).map(toAlert);
    const inc = await trx
      .selectFrom('alerts_incident')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    const firing = alerts.filter((a) => a.status === 'firing');
    const severity = (firing.length ? firing : alerts).reduce<Severity>(
      (s, a) => (SEVERITY_RANK[a.severity] > SEVERITY_RANK[s] ? a.severity : s),
      'info',
    );
    const resolved = firing.length === 0;
    const lastNotified = num(inc.last_notified_at);
    const due =
      num(inc.notify_due_at) ??
      (lastNotified === undefined ? now : Math.max(now, lastNotified + this.config().grouping.groupInterval));
    await trx
      .updateTable('alerts_incident')
      .set({
        firing: firing.length,
        total: alerts.length,
        severity,
        labels: JSON.stringify(commonLabels(alerts)),
        updated_at: now,
        ...(resolved && inc.status !== 'resolved'
          ? { status: 'resolved', resolved_at: now, escalation_due_at: null }
          : {}),
        notify_due_at: due,
      })
      .where('id', '=', id)
      .execute();
    if (resolved && inc.status !== 'resolved')
      await this.timeline(trx, id, now, 'dingops', 'incident.resolved', 'all alerts resolved');
  }

  private async timeline(
    trx: Kysely<any>,
    id: number,
    at: number,
    actor: string,
    kind: string,
    detail: string,
  ) {
    await trx.insertInto('alerts_timeline').values({ incident_id: id, at, actor, kind, detail }).execute();
  }

  /** Adds to an incident's timeline. */
  note(id: number, actor: string, kind: string, detail = ''): Promise<void> {
    return this.timeline(this.db, id, this.now(), actor, kind, detail);
  }

  // --- reads and updates used by the notifier, actions and commands

  async incident(id: number): Promise<Incident | undefined> {
    const r = await this.db.selectFrom('alerts_incident').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? toIncident(r) : undefined;
  }

  async alerts(incidentId: number): Promise<StoredAlert[]> {
    return (
      await this.db
        .selectFrom('alerts_alert')
        .selectAll()
        .where('incident_id', '=', incidentId)
        .orderBy('starts_at')
        .execute()
    ).map(toAlert);
  }

  async timelineOf(incidentId: number): Promise<TimelineEntry[]> {
    return (
      await this.db
        .selectFrom('alerts_timeline')
        .selectAll()
        .where('incident_id', '=', incidentId)
        .orderBy('id')
        .execute()
    ).map((r) => ({ at: Number(r.at), actor: r.actor, kind: r.kind, detail: r.detail }));
  }

  async list(filter: { status?: IncidentStatus[]; ackedBy?: string; limit: number }): Promise<Incident[]> {
    let q = this.db.selectFrom('alerts_incident').selectAll().orderBy('id', 'desc').limit(filter.limit);
    if (filter.status?.length) q = q.where('status', 'in', filter.status);
    if (filter.ackedBy) q = q.where('acked_by', '=', filter.ackedBy);
    return (await q.execute()).map(toIncident);
  }

  async dueNotifications(now: number): Promise<Incident[]> {
    return (
      await this.db
        .selectFrom('alerts_incident')
        .selectAll()
        .where('notify_due_at', '<=', now)
        .orderBy('id')
        .limit(500)
        .execute()
    ).map(toIncident);
  }

  async dueEscalations(now: number): Promise<Incident[]> {
    return (
      await this.db
        .selectFrom('alerts_incident')
        .selectAll()
        .where('escalation_due_at', '<=', now)
        .orderBy('id')
        .limit(500)
        .execute()
    ).map(toIncident);
  }

  /**
   * Takes a due notification or escalation: only the caller whose update matched the due
   * time it read goes on, so none fires twice (across restarts or replicas).
   */
  async claim(
    id: number,
    column: 'notify_due_at' | 'escalation_due_at',
    seen: number,
    next: number | null,
  ): Promise<boolean> {
    const r = await this.db
      .updateTable('alerts_incident')
      .set({ [column]: next })
      .where('id', '=', id)
      .where(column, '=', seen)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async update(id: number, patch: Record<string, unknown>): Promise<void> {
    await this.db
      .updateTable('alerts_incident')
      .set({ ...patch, updated_at: this.now() })
      .where('id', '=', id)
      .execute();
  }

  async cards(incidentId: number): Promise<Array<{ destination: string; cardId: string }>> {
    return (
      await this.db.selectFrom('alerts_card').selectAll().where('incident_id', '=', incidentId).execute()
    ).map((r) => ({
      destination: r.destination,
      cardId: r.card_id,
    }));
  }

  async saveCard(incidentId: number, destination: string, cardId: string): Promise<void> {
    await this.db
      .insertInto('alerts_card')
      .values({ incident_id: incidentId, destination, card_id: cardId, sent_at: this.now() })
      .execute();
  }
}

function commonLabels(alerts: StoredAlert[]): Record<string, string> {
  if (!alerts.length) return {};
  const [first, ...rest] = alerts;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(first!.labels)) if (rest.every((a) => a.labels[k] === v)) out[k] = v;
  return out;
}

function toAlert(r: Record<string, any>): StoredAlert {
  return {
    fingerprint: r.fingerprint,
    incidentId: num(r.incident_id),
    status: r.status,
    title: r.title,
    severity: r.severity,
    labels: JSON.parse(r.labels),
    annotations: JSON.parse(r.annotations),
    links: JSON.parse(r.links),
    startsAt: Number(r.starts_at),
    endsAt: num(r.ends_at),
  };
}

function toIncident(r: Record<string, any>): Incident {
  return {
    id: Number(r.id),
    groupKey: r.group_key,
    title: r.title,
    severity: r.severity,
    status: r.status,
    labels: JSON.parse(r.labels),
    route: JSON.parse(r.route),
    firing: Number(r.firing),
    total: Number(r.total),
    ackedBy: r.acked_by ?? undefined,
    snoozedUntil: num(r.snoozed_until),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
    resolvedAt: num(r.resolved_at),
    notifyDueAt: num(r.notify_due_at),
    lastNotifiedAt: num(r.last_notified_at),
    escalationLevel: num(r.escalation_level),
    escalationRound: num(r.escalation_round),
    escalationDueAt: num(r.escalation_due_at),
    flapping: Number(r.flapping) === 1,
  };
}
