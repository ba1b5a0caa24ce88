import type { IncidentStatus, Severity } from './model.js';
import type { RouteResult } from './router.js';

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
  /** The earliest notification these changes made due (epoch ms), if any. */
  nextDue?: number;
}
