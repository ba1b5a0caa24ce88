import { formatDuration } from 'dingops';
import type { IncidentView, TimelineEntry } from './incidents.js';

export interface PostmortemDeps {
  t: (key: string, vars?: Record<string, unknown>) => string;
  name: (userId: string) => string;
  time: (ms: number) => string;
  now: () => number;
}

/** Notes that read as follow-ups ("todo: …", "follow-up: …", "action: …", "跟进：…"). */
const FOLLOW_UP = /^\s*(?:todo|follow[- ]?up|action(?: item)?|待办|跟进)\s*[:：]\s*(.+)$/i;

/**
 * The postmortem draft (markdown): summary, impact window, timeline, participants and open
 * follow-ups. A draft for people to finish, built only from what was recorded.
 */
export function postmortemDraft(
  i: IncidentView,
  timeline: TimelineEntry[],
  members: string[],
  d: PostmortemDeps,
): string {
  const { t } = d;
  const start = Math.min(i.createdAt, ...i.alerts.map((a) => a.startsAt));
  const end = i.resolvedAt;
  const people = new Set(members);
  for (const e of timeline)
    if (e.actor !== 'dingops' && !/^(alertmanager|grafana|generic)$/.test(e.actor)) people.add(e.actor);
  const followUps = timeline
    .filter((e) => e.kind === 'note')
    .map((e) => FOLLOW_UP.exec(e.detail)?.[1])
    .filter((x): x is string => !!x);
  const lines = [
    `# ${t('pm.title', { id: i.id, title: i.title })}`,
    '',
    `## ${t('pm.summary')}`,
    t('pm.summaryText', {
      severity: i.severity,
      title: i.title,
      status: t(`status.${i.status}`),
      acked: i.ackedBy ? `@${d.name(i.ackedBy)}` : t('nobody'),
    }),
    '',
    `## ${t('pm.impact')}`,
    `- ${t('pm.start')}: ${d.time(start)}`,
    `- ${t('pm.end')}: ${end !== undefined ? d.time(end) : t('pm.ongoing')}`,
    `- ${t('pm.duration')}: ${formatDuration(Math.max(0, (end ?? d.now()) - start))}`,
    `- ${t('pm.alerts')}: ${i.alerts
      .map((a) => `${a.title} (${d.time(a.startsAt)}${a.endsAt ? ` → ${d.time(a.endsAt)}` : ''})`)
      .join('; ')}`,
    '',
    `## ${t('pm.timeline')}`,
    ...timeline.map(
      (e) => `- ${d.time(e.at)} **${d.name(e.actor)}** ${e.kind}${e.detail ? `: ${e.detail}` : ''}`,
    ),
    '',
    `## ${t('pm.participants')}`,
    [...people].map((p) => `@${d.name(p)}`).join(', ') || t('nobody'),
    '',
    `## ${t('pm.followUps')}`,
    ...followUps.map((f) => `- [ ] ${f}`),
    `- [ ] ${t('pm.followUpRoot')}`,
    `- [ ] ${t('pm.followUpPrevent')}`,
  ];
  return lines.join('\n');
}
