import type { Incident } from './incident-store.js';

/**
 * How an incident is named: one alert, by that alert's title; several, by what they have in
 * common that grouped them (the grouping labels among their common labels, `alertname` by
 * its value), not by whichever alert came first.
 */
export function incidentTitle(
  i: Pick<Incident, 'title' | 'total' | 'labels'>,
  groupBy: readonly string[],
): string {
  if (i.total <= 1) return i.title;
  const names = [...new Set(['alertname', ...groupBy])].filter((l) => i.labels[l]);
  const parts = names.map((l) => (l === 'alertname' ? i.labels[l]! : `${l}=${i.labels[l]}`));
  return parts.length ? `${parts.join(' · ')} (${i.total})` : i.title;
}
