import { capText, nestedDeeperThan } from 'dingops';

export type Severity = 'critical' | 'warning' | 'info';

/** How a severity shows in chat (cards, lists, war rooms). */
export const SEVERITY_ICON: Record<Severity, string> = { critical: '🔴', warning: '🟠', info: '🔵' };
export type AlertStatus = 'firing' | 'resolved';
export type IncidentStatus = 'triggered' | 'acknowledged' | 'snoozed' | 'resolved';

/** One alert as any source describes it, normalized. */
export interface IncomingAlert {
  /** Stable identity of the alert (Alertmanager's fingerprint, Grafana's, or the generic dedup key). */
  fingerprint: string;
  status: AlertStatus;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: number;
  /** When it resolved (resolved alerts). */
  endsAt?: number;
  links: Array<{ title: string; url: string }>;
  /** The sender's group identity (Alertmanager/Grafana `groupKey`), when it has one. */
  groupKey?: string;
  title: string;
  severity: Severity;
}

export interface IngestBatch {
  source: 'alertmanager' | 'grafana' | 'generic';
  alerts: IncomingAlert[];
  /** Alerts the sender dropped (`truncatedAlerts`). */
  truncated: number;
}

/**
 * The severity from the usual labels (`severity`, then `priority`, then `level`), mapped as
 * Flashduty maps Prometheus severities; `warning` when none says.
 */
export function severityOf(labels: Record<string, string>): Severity {
  const raw = (labels.severity ?? labels.priority ?? labels.level ?? '').toLowerCase();
  if (['critical', 'crit', 'p0', 'p1', 'high', 'error', 'page', 'disaster', 'fatal'].includes(raw))
    return 'critical';
  if (['info', 'informational', 'low', 'p4', 'p5', 'none', 'ok', 'unknown', 'unk'].includes(raw))
    return 'info';
  return 'warning';
}

/** What one alert may carry: longer names, values and titles are cut with a visible `…`. */
export const LIMITS = { labelName: 128, labelValue: 2048, title: 300, entries: 100 } as const;

/** Labels or annotations: strings (other JSON values as their JSON text), each name and value capped. */
export function stringMap(value: unknown, where: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new BadPayload(`${where} must be an object`);
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > LIMITS.entries)
    throw new BadPayload(`${where} has ${entries.length} entries (at most ${LIMITS.entries})`);
  const out: Record<string, string> = {};
  for (const [k, v] of entries)
    out[capText(k, LIMITS.labelName)] = capText(
      typeof v === 'string' ? v : JSON.stringify(v),
      LIMITS.labelValue,
    );
  return out;
}

/** Refuses JSON nested deeper than `max` levels with a 400 (see `nestedDeeperThan`). */
export function checkDepth(value: unknown, max = 32): void {
  if (nestedDeeperThan(value, max)) throw new BadPayload(`the body is nested more than ${max} levels deep`);
}

/** A payload the sender must fix: answered 400 with this message. */
export class BadPayload extends Error {}

/** RFC 3339 to ms; Alertmanager's zero time (`0001-01-01T00:00:00Z`) and missing values are undefined. */
export function timeOf(value: unknown, where: string): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'number') return value < 1e12 ? value * 1000 : value;
  if (typeof value !== 'string') throw new BadPayload(`${where} must be an RFC 3339 time`);
  if (value.startsWith('0001-01-01')) return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new BadPayload(`${where} is not a time: '${value}'`);
  return ms;
}
