import { capText } from 'dingops';
import {
  BadPayload,
  type IncomingAlert,
  type IngestBatch,
  LIMITS,
  severityOf,
  stringMap,
  timeOf,
} from '../model.js';

/**
 * Alertmanager's webhook (`version: "4"`), and Grafana's, which extends it. Unknown fields
 * (`notification_reason`, `routeLabels`, Grafana's `values`, ...) are ignored, so newer
 * senders keep working.
 */
export function parseAlertmanagerLike(
  body: unknown,
  source: 'alertmanager' | 'grafana',
  now = Date.now(),
): IngestBatch {
  if (!body || typeof body !== 'object' || Array.isArray(body))
    throw new BadPayload('the body must be a JSON object');
  const b = body as Record<string, unknown>;
  if (!Array.isArray(b.alerts)) throw new BadPayload('alerts must be an array');
  const groupKey = typeof b.groupKey === 'string' && b.groupKey ? b.groupKey : undefined;
  const externalURL = typeof b.externalURL === 'string' ? b.externalURL : undefined;
  const alerts = b.alerts.map((raw, i): IncomingAlert => {
    const where = `alerts[${i}]`;
    if (!raw || typeof raw !== 'object') throw new BadPayload(`${where} must be an object`);
    const a = raw as Record<string, unknown>;
    const labels = stringMap(a.labels, `${where}.labels`);
    const annotations = stringMap(a.annotations, `${where}.annotations`);
    if (a.status !== 'firing' && a.status !== 'resolved')
      throw new BadPayload(`${where}.status must be firing or resolved`);
    const fingerprint =
      typeof a.fingerprint === 'string' && a.fingerprint
        ? capText(a.fingerprint, 255)
        : labelFingerprint(labels);
    const links: IncomingAlert['links'] = [];
    for (const [key, title] of [
      ['generatorURL', 'source'],
      ['dashboardURL', 'dashboard'],
      ['panelURL', 'panel'],
      ['silenceURL', 'silence'],
    ] as const)
      if (typeof a[key] === 'string' && a[key])
        links.push({ title, url: capText(a[key] as string, LIMITS.labelValue) });
    if (externalURL && source === 'alertmanager') links.push({ title: 'Alertmanager', url: externalURL });
    return {
      fingerprint,
      status: a.status,
      labels,
      annotations,
      startsAt: timeOf(a.startsAt, `${where}.startsAt`) ?? now,
      endsAt: a.status === 'resolved' ? (timeOf(a.endsAt, `${where}.endsAt`) ?? now) : undefined,
      links,
      groupKey,
      title: capText(
        annotations.summary || annotations.title || labels.alertname || fingerprint,
        LIMITS.title,
      ),
      severity: severityOf(labels),
    };
  });
  const truncated = typeof b.truncatedAlerts === 'number' ? b.truncatedAlerts : 0;
  return { source, alerts, truncated };
}

/** A stable id from the label set when the sender gives none (sorted, so order does not matter). */
export function labelFingerprint(labels: Record<string, string>): string {
  const text = Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join('\u0000');
  // FNV-1a 64-bit, hex: short and stable, like Alertmanager's 16-hex fingerprints.
  let h = 0xcbf29ce484222325n;
  for (const byte of Buffer.from(text, 'utf8')) {
    h ^= BigInt(byte);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h.toString(16).padStart(16, '0');
}
