import { type Card, type CardButton, type CardStatus, card, formatDuration } from 'dingops';
import type { IncidentView } from './incidents.js';
import type { Room } from './room-store.js';

export interface SummaryDeps {
  t: (key: string, vars?: Record<string, unknown>) => string;
  /** Full action ids of the room's buttons. */
  actions: { ack: string; resolve: string; close: string };
  /** A userId as people know it (the `people` name when there is one). */
  name: (userId: string) => string;
  time: (ms: number) => string;
  now: () => number;
}

function statusOf(i: IncidentView, room: Room): CardStatus {
  if (room.status === 'closed' || i.status === 'resolved') return 'success';
  if (i.status !== 'triggered') return 'neutral';
  return i.severity === 'critical' ? 'critical' : 'warning';
}

/**
 * The card pinned at the top of a war room: where the incident stands and who is on it,
 * updated in place on every change. Every button has its command, so markdown fallbacks
 * keep the actions reachable.
 */
export function summaryCard(i: IncidentView, room: Room, d: SummaryDeps): Card {
  const { t } = d;
  const assignees = i.ackedBy ? [i.ackedBy] : i.responders;
  const fields = [
    { label: t('field.status'), value: t(`status.${i.status}`) },
    { label: t('field.severity'), value: `${i.icon} ${i.severity}` },
    { label: t('field.alerts'), value: t('alertCount', { firing: i.firing, total: i.total }) },
    {
      label: t('field.assignees'),
      value: assignees.length ? assignees.map((a) => `@${d.name(a)}`).join(', ') : t('nobody'),
    },
    {
      label: t('field.started'),
      value: `${d.time(i.createdAt)} (${formatDuration(Math.max(0, (i.resolvedAt ?? d.now()) - i.createdAt))})`,
    },
    {
      label: t('field.lastUpdate'),
      value:
        room.lastUpdateAt !== undefined
          ? t('lastUpdate', { when: d.time(room.lastUpdateAt), who: d.name(room.lastUpdateBy ?? '') })
          : t('noUpdate'),
    },
    { label: t('field.members'), value: String(room.members.length) },
  ];
  if (room.status === 'closed')
    fields.unshift({
      label: t('field.room'),
      value: t('roomClosed', { when: d.time(room.closedAt ?? d.now()) }),
    });
  const firing = i.alerts.filter((a) => a.status === 'firing');
  const links = i.alerts.filter((a) => a.url).map((a) => `[${a.title}](${a.url})`);
  const buttons: CardButton[] = [];
  if (room.status !== 'closed') {
    if (i.status === 'triggered')
      buttons.push({
        text: t('button.ack'),
        style: 'primary',
        action: { id: d.actions.ack, params: { incident: String(i.id) } },
        command: `ack ${i.id}`,
      });
    if (i.status !== 'resolved')
      buttons.push({
        text: t('button.resolve'),
        action: { id: d.actions.resolve, params: { incident: String(i.id) } },
        command: `resolve ${i.id}`,
      });
    buttons.push({
      text: t('button.close'),
      style: 'danger',
      action: { id: d.actions.close, params: { incident: String(i.id) } },
      command: `warroom close ${i.id}`,
    });
  }
  return card({
    title: t('summaryTitle', { id: i.id, title: i.title }),
    status: statusOf(i, room),
    fields,
    sections: [
      ...(firing.length
        ? [
            {
              title: t('section.firing'),
              items: firing.map(
                (a) => `🔥 ${a.title}${a.summary && a.summary !== a.title ? ` — ${a.summary}` : ''}`,
              ),
            },
          ]
        : []),
      ...(links.length ? [{ title: t('section.links'), items: [...new Set(links)] }] : []),
    ],
    buttons,
    footer: room.status === 'closed' ? t('closedFooter', { id: i.id }) : t('summaryFooter'),
  });
}
