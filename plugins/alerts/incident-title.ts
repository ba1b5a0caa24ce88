import type { Incident } from './incident.js';

/**
 * How an incident is named: one alert, by that alert's title; several, by what grouped them,
 * not by whichever alert came first. That is the sender's group labels (Alertmanager's and
 * Grafana's `groupKey` ends with them: `{}:{alertname="X", service="api"}`), else the
 * `grouping.by` labels the alerts have in common; `alertname` shows as its value.
 */
export function incidentTitle(
  i: Pick<Incident, 'title' | 'total' | 'labels' | 'groupKey'>,
  groupBy: readonly string[],
): string {
  if (i.total <= 1) return i.title;
  let labels = groupLabels(i.groupKey);
  if (!Object.keys(labels).length)
    labels = Object.fromEntries(
      [...new Set(['alertname', ...groupBy])].flatMap((l) => (i.labels[l] ? [[l, i.labels[l]]] : [])),
    );
  const names = Object.keys(labels).sort((a, b) => Number(b === 'alertname') - Number(a === 'alertname'));
  const parts = names.map((l) => (l === 'alertname' ? (labels[l] ?? '') : `${l}=${labels[l]}`));
  return parts.length ? `${parts.join(' · ')} (${i.total})` : i.title;
}

const PAIR = /([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** The label pairs of a group key's last `{...}` (one pass; an unknown shape gives none). */
function groupLabels(groupKey: string): Record<string, string> {
  const open = groupKey.lastIndexOf('{');
  const close = groupKey.lastIndexOf('}');
  if (open < 0 || close < open) return {};
  const out: Record<string, string> = {};
  for (const [, name, value] of groupKey.slice(open + 1, close).matchAll(PAIR))
    if (name !== undefined && value !== undefined) out[name] = value.replace(/\\(.)/g, '$1');
  return out;
}
