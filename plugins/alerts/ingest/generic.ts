import { capText } from 'dingops';
import {
  BadPayload,
  type IncomingAlert,
  type IngestBatch,
  LIMITS,
  type Severity,
  stringMap,
  timeOf,
} from '../model.js';
import { labelFingerprint } from './alertmanager.js';

const SEVERITIES: readonly Severity[] = ['critical', 'warning', 'info'];

/**
 * dingops' own JSON (README, "Alerts"): one alert or `{ "alerts": [...] }`, each
 * `{ title, severity, status, labels, annotations, dedupKey, links, startsAt }`. Only
 * `title` is required; the dedup key defaults to the label set (with the title).
 */
export function parseGeneric(body: unknown, now = Date.now()): IngestBatch {
  if (!body || typeof body !== 'object' || Array.isArray(body))
    throw new BadPayload('the body must be a JSON object');
  const b = body as Record<string, unknown>;
  const list = Array.isArray(b.alerts) ? b.alerts : [b];
  if (!list.length) throw new BadPayload('alerts is empty');
  const alerts = list.map((raw, i): IncomingAlert => {
    const where = Array.isArray(b.alerts) ? `alerts[${i}]` : 'body';
    if (!raw || typeof raw !== 'object') throw new BadPayload(`${where} must be an object`);
    const a = raw as Record<string, unknown>;
    if (typeof a.title !== 'string' || !a.title.trim()) throw new BadPayload(`${where}.title is required`);
    const status = a.status ?? 'firing';
    if (status !== 'firing' && status !== 'resolved')
      throw new BadPayload(`${where}.status must be firing or resolved`);
    const severity = String(a.severity ?? 'warning').toLowerCase() as Severity;
    if (!SEVERITIES.includes(severity))
      throw new BadPayload(`${where}.severity must be critical, warning or info`);
    const labels = stringMap(a.labels, `${where}.labels`);
    labels.alertname ??= capText(a.title, LIMITS.labelValue);
    labels.severity ??= severity;
    const annotations = stringMap(a.annotations, `${where}.annotations`);
    if (
      a.dedupKey !== undefined &&
      (typeof a.dedupKey !== 'string' || !a.dedupKey || a.dedupKey.length > 255)
    )
      throw new BadPayload(`${where}.dedupKey must be a string of 1-255 characters`);
    const links: IncomingAlert['links'] = [];
    if (a.links !== undefined) {
      if (!Array.isArray(a.links)) throw new BadPayload(`${where}.links must be an array of {title, url}`);
      for (const [j, l] of a.links.entries()) {
        const link = l as { title?: unknown; url?: unknown };
        if (typeof link?.url !== 'string' || !/^https?:\/\//.test(link.url))
          throw new BadPayload(`${where}.links[${j}].url must be an http(s) URL`);
        links.push({
          title: capText(typeof link.title === 'string' ? link.title : link.url, LIMITS.title),
          url: capText(link.url, LIMITS.labelValue),
        });
      }
    }
    const startsAt = timeOf(a.startsAt, `${where}.startsAt`) ?? now;
    return {
      fingerprint: (a.dedupKey as string | undefined) ?? labelFingerprint(labels),
      status,
      labels,
      annotations,
      startsAt,
      endsAt: status === 'resolved' ? (timeOf(a.endsAt, `${where}.endsAt`) ?? now) : undefined,
      links,
      title: capText(a.title.trim(), LIMITS.title),
      severity,
    };
  });
  return { source: 'generic', alerts, truncated: 0 };
}
