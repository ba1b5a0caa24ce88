import type { Generated } from 'kysely';
import type { Incident, LinkedRoom, StoredAlert } from './incident.js';
import type { IncidentStatus, IncomingAlert, Severity } from './model.js';

/**
 * The plugin's tables as Kysely sees them (the columns `migrations.ts` creates). Times are ms
 * in `bigint` columns, read back as numbers; flags are integers 0/1; JSON is stored as text.
 */
// A type, not an interface: Kysely's `withTables<T>()` wants an index-signature-compatible shape.
export type AlertsTables = {
  alerts_incident: {
    id: Generated<number>;
    group_key: string;
    title: string;
    severity: Severity;
    status: IncidentStatus;
    /** JSON: the labels the incident's alerts share. */
    labels: string;
    /** JSON `RouteResult`. */
    route: string;
    /** The routed groups, comma-joined: incidents for the same groups are notified together. */
    destination_key: string;
    firing: number;
    total: number;
    acked_by: string | null;
    snoozed_until: number | null;
    created_at: number;
    updated_at: number;
    resolved_at: number | null;
    notify_due_at: number | null;
    last_notified_at: number | null;
    escalation_level: number | null;
    escalation_round: number | null;
    escalation_due_at: number | null;
    flapping: Generated<number>;
    /** JSON `LinkedRoom`. */
    room: string | null;
    room_conversation: string | null;
  };
  alerts_alert: {
    fingerprint: string;
    incident_id: number | null;
    source: string;
    status: 'firing' | 'resolved';
    title: string;
    severity: Severity;
    labels: string;
    annotations: string;
    links: string;
    starts_at: number;
    ends_at: number | null;
    updated_at: number;
    /** State changes counted since `changes_since` (flapping). */
    changes: Generated<number>;
    changes_since: number | null;
  };
  alerts_timeline: {
    id: Generated<number>;
    incident_id: number;
    at: number;
    actor: string;
    kind: string;
    detail: string;
  };
  alerts_silence: {
    id: Generated<number>;
    /** JSON matchers. */
    matchers: string;
    starts_at: number;
    ends_at: number;
    created_by: string;
    comment: string;
  };
  alerts_card: {
    incident_id: number;
    destination: string;
    card_id: string;
    sent_at: number;
  };
};

export type IncidentRow = AlertsTables['alerts_incident'];
/** An alert row as read (generated columns resolved). */
export type AlertRow = Omit<AlertsTables['alerts_alert'], 'changes'> & { changes: number };

export const num = (v: number | null | undefined) => (v === null || v === undefined ? undefined : Number(v));

/** The columns an incoming alert sets (the rest are the store's bookkeeping). */
export function alertColumns(a: IncomingAlert, incidentId: number | undefined) {
  return {
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

export function toAlert(
  r: Omit<AlertRow, 'source' | 'updated_at' | 'changes' | 'changes_since'>,
): StoredAlert {
  return {
    fingerprint: r.fingerprint,
    incidentId: num(r.incident_id),
    status: r.status,
    title: r.title,
    severity: r.severity,
    labels: JSON.parse(r.labels) as Record<string, string>,
    annotations: JSON.parse(r.annotations) as Record<string, string>,
    links: JSON.parse(r.links) as StoredAlert['links'],
    startsAt: Number(r.starts_at),
    endsAt: num(r.ends_at),
  };
}

export function toIncident(
  r: Omit<IncidentRow, 'id' | 'flapping'> & { id: number; flapping: number },
): Incident {
  return {
    id: Number(r.id),
    groupKey: r.group_key,
    title: r.title,
    severity: r.severity,
    status: r.status,
    labels: JSON.parse(r.labels) as Record<string, string>,
    route: JSON.parse(r.route) as Incident['route'],
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
