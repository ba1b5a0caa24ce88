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
  /** The linked conversation (war room), when there is one. */
  room?: LinkedRoom;
}

export interface LinkedRoom {
  openConversationId: string;
  title: string;
  /** A link that opens the group in DingTalk, when known. */
  url?: string;
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
        if (prev) await this.countChange(trx, a.fingerprint, row!, incident, now);
        rows.set(a.fingerprint, {
          ...fromIncoming(a, incident),
          changes: row?.changes ?? 0,
          changes_since: row?.changes_since,
        });
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
        rows.set(a.fingerprint, {
          ...fromIncoming(a, prev?.incidentId),
          changes: row?.changes ?? 0,
          changes_since: row?.changes_since,
        });
        if (prev?.incidentId !== undefined) {
          await this.countChange(trx, a.fingerprint, row!, prev.incidentId, now);
          touch(prev.incidentId).resolved.push(a.title);
        }
      }
    }
    // Once per incident, not per alert: a payload of 100 alerts is one recount.
    for (const [id, t] of touched) {
      if (t.firing.length) await this.timeline(trx, id, now, batch.source, 'alert.firing', names(t.firing));
      if (t.resolved.length)
        await this.timeline(trx, id, now, batch.source, 'alert.resolved', names(t.resolved));
      await this.recount(trx, id, now, t.joined);
    }
    return { accepted: batch.alerts.length - absorbed, absorbed, incidents: [...touched.keys()] };
  }

  /** The stored rows of these fingerprints (read in chunks: SQL parameter limits). */
  private async existing(
    trx: Transaction<any>,
    fingerprints: string[],
  ): Promise<Map<string, Record<string, any>>> {
    const out = new Map<string, Record<string, any>>();
    const unique = [...new Set(fingerprints)];
    for (let i = 0; i < unique.length; i += 500) {
      const rows = await trx
        .selectFrom('alerts_alert')
        .selectAll()
        .where('fingerprint', 'in', unique.slice(i, i + 500))
        .execute();
      for (const r of rows) out.set(r.fingerprint, r);
    }
    return out;
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
    const { fingerprint: _, ...row } = fromIncoming(a, incidentId);
    const values = { ...row, updated_at: now };
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
    trx: Transaction<any>,
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
      await this.timeline(trx, id, now, 'dingops', 'incident.resolved', 'all alerts resolved');
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

  async nextDue(): Promise<number | undefined> {
    const r = await this.db
      .selectFrom('alerts_incident')
      .select((eb) => [eb.fn.min('notify_due_at').as('n'), eb.fn.min('escalation_due_at').as('e')])
      .executeTakeFirst();
    const times = [num(r?.n), num(r?.e)].filter((x): x is number => x !== undefined);
    return times.length ? Math.min(...times) : undefined;
  }

  /** Incidents whose notification (or escalation) time has come, oldest first. */
  async due(column: 'notify_due_at' | 'escalation_due_at', now: number): Promise<Incident[]> {
    return (
      await this.db
        .selectFrom('alerts_incident')
        .selectAll()
        .where(column, '<=', now)
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

  async linkRoom(id: number, room: LinkedRoom): Promise<void> {
    await this.update(id, { room: JSON.stringify(room), room_conversation: room.openConversationId });
  }

  /** The incident whose linked conversation this is. */
  async byRoom(openConversationId: string): Promise<Incident | undefined> {
    const r = await this.db
      .selectFrom('alerts_incident')
      .selectAll()
      .where('room_conversation', '=', openConversationId)
      .orderBy('id', 'desc')
      .executeTakeFirst();
    return r ? toIncident(r) : undefined;
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

/** The row an alert becomes (to recognise it again later in the same payload). */
function fromIncoming(a: IncomingAlert, incidentId: number | undefined): Record<string, any> {
  return {
    fingerprint: a.fingerprint,
    incident_id: incidentId ?? null,
    status: a.status,
    title: a.title,
    severity: a.severity,
    labels: JSON.stringify(a.labels),
    annotations: JSON.stringify(a.annotations),
    links: JSON.stringify(a.links),
    starts_at: a.startsAt,
    ends_at: a.endsAt ?? null,
  };
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
    room: r.room ? (JSON.parse(r.room) as LinkedRoom) : undefined,
  };
}
