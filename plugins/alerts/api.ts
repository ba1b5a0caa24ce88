import type { Caller, CardButton } from 'dingops';
import type { AlertsConfig } from './config.js';
import type { Incident, LinkedRoom, StoredAlert, TimelineEntry } from './incident.js';
import { incidentTitle } from './incident-title.js';
import { type IncidentStatus, SEVERITY_ICON, type Severity } from './model.js';

/** An incident as other plugins see it (`alerts.incidents` service, `alerts.incident.changed` event). */
export interface IncidentView {
  id: number;
  title: string;
  severity: Severity;
  /** How the severity shows in chat (🔴 🟠 🔵). */
  icon: string;
  status: IncidentStatus;
  labels: Record<string, string>;
  firing: number;
  total: number;
  ackedBy?: string;
  createdAt: number;
  updatedAt: number;
  resolvedAt?: number;
  flapping: boolean;
  /**
   * Who should be in on it, as configured (names from `people`, userIds or mobiles): the
   * route's people, the escalation levels reached so far, and whoever acknowledged.
   */
  responders: string[];
  /** The route's groups (ids or titles). */
  groups: string[];
  alerts: Array<{
    title: string;
    status: 'firing' | 'resolved';
    startsAt: number;
    endsAt?: number;
    summary?: string;
    url?: string;
  }>;
  room?: LinkedRoom;
}

export interface IncidentChange {
  incident: IncidentView;
  /** `acknowledged`, `resolved`, `alerts`, `escalated`, `note`, `room.linked`, ... */
  kind: string;
  actor?: string;
  detail?: string;
}

export interface IncidentActor {
  userId: string;
  nick: string;
}

/** What the alerts plugin offers other plugins (`ctx.plugins.use('alerts.incidents')`). */
export interface IncidentsApi {
  get(id: number): Promise<IncidentView | undefined>;
  /** The incident linked to this conversation (`linkRoom`). */
  byRoom(openConversationId: string): Promise<IncidentView | undefined>;
  timeline(id: number): Promise<TimelineEntry[]>;
  /**
   * Throws the refusal (PermissionDenied, audited as denied) unless `who` may change this
   * incident (`plugins.alerts.responders`, or one of the people it was sent to).
   */
  checkResponder(id: number, who: Caller): Promise<void>;
  /** The same as the card buttons and commands (permission checks are the caller's: `checkResponder`). */
  acknowledge(id: number, actor: IncidentActor): Promise<void>;
  resolve(id: number, actor: IncidentActor, note?: string): Promise<void>;
  /** Adds a note to the timeline (who and when recorded). */
  note(id: number, actor: IncidentActor, text: string): Promise<void>;
  /**
   * Links a conversation to the incident: its cards link there, and `ack`, `resolve`,
   * `incident` typed there need no id.
   */
  linkRoom(id: number, room: LinkedRoom, actor: IncidentActor): Promise<void>;
  /** Buttons for open incidents' cards; returns the function that removes them. */
  addCardButtons(fn: (i: IncidentView) => CardButton[]): () => void;
}

declare module 'dingops' {
  interface PluginServices {
    'alerts.incidents': IncidentsApi;
  }
}

declare module 'dingops' {
  interface DingopsEvents {
    'alerts.incident.changed': IncidentChange;
  }
}

/** The view of an incident: its own fields, its alerts, and who should be in on it. */
export function incidentView(i: Incident, alerts: StoredAlert[], config: AlertsConfig): IncidentView {
  return {
    id: i.id,
    title: incidentTitle(i, config.grouping.by),
    severity: i.severity,
    icon: SEVERITY_ICON[i.severity],
    status: i.status,
    labels: i.labels,
    firing: i.firing,
    total: i.total,
    ackedBy: i.ackedBy,
    createdAt: i.createdAt,
    updatedAt: i.updatedAt,
    resolvedAt: i.resolvedAt,
    flapping: i.flapping,
    responders: pagedPeople(i, config),
    groups: i.route.groups,
    alerts: alerts.map((a) => ({
      title: a.title,
      status: a.status,
      startsAt: a.startsAt,
      endsAt: a.endsAt,
      summary: a.annotations.summary || a.annotations.description || undefined,
      url: a.links[0]?.url,
    })),
    room: i.room,
  };
}

/** The people an incident was sent to: its route's people, the escalation levels reached, whoever acknowledged. */
export function pagedPeople(i: Incident, config: AlertsConfig): string[] {
  const responders = new Set(i.route.people);
  const policy = i.route.escalation ? config.escalations[i.route.escalation] : undefined;
  if (policy && i.escalationLevel !== undefined) {
    const reached = (i.escalationRound ?? 0) > 0 ? policy.levels.length - 1 : i.escalationLevel;
    for (const level of policy.levels.slice(0, reached + 1)) for (const p of level.people) responders.add(p);
  }
  if (i.ackedBy) responders.add(i.ackedBy);
  return [...responders];
}
