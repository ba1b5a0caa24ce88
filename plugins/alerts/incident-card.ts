import {
  type Card,
  type CardButton,
  type CardStatus,
  card,
  formatDuration,
  localTime,
  mdCode,
  mdText,
} from 'dingops';
import type { AlertsConfig } from './config.js';
import type { Incident, StoredAlert } from './incident.js';
import { incidentTitle } from './incident-title.js';
import { SEVERITY_ICON } from './model.js';
import type { EscalationNote } from './notifier.js';

export interface CardDeps {
  config: AlertsConfig;
  t: (key: string, vars?: Record<string, unknown>) => string;
  /** Full action ids (`alerts.ack`, ...). */
  actions: { ack: string; unack: string; resolve: string; snooze: string; silence: string };
  /** Buttons other plugins add to open incidents (e.g. "open a war room"). */
  extraButtons?: (i: Incident, alerts: StoredAlert[]) => CardButton[];
  now: () => number;
  timezone: string;
  /** A configured group reference (openConversationId or title) as people know the group. */
  groupName: (ref: string) => string;
  /** A configured person reference (name, userId or mobile) as shown on a card: never a mobile. */
  personName: (ref: string) => string;
}

function statusOf(i: Incident): CardStatus {
  if (i.status === 'resolved') return 'success';
  if (i.status === 'acknowledged' || i.status === 'snoozed') return 'neutral';
  return i.severity === 'critical' ? 'critical' : i.severity === 'warning' ? 'warning' : 'info';
}

/**
 * The incident card: severity colour, title, key labels, alert counts, start time, links,
 * who acknowledged, and the buttons (each with the equivalent command, so markdown
 * fallbacks keep every action reachable).
 */
export function incidentCard(
  i: Incident,
  alerts: StoredAlert[],
  deps: CardDeps,
  mentions: string[] = [],
  escalation?: EscalationNote,
): Card {
  const { t, config } = deps;
  const time = (ms: number) => localTime(ms, deps.timezone);
  const fields = [
    // First on an escalation's card: why these people get it now.
    ...(escalation ? [{ label: t('field.escalated'), value: escalationText(escalation, deps) }] : []),
    { label: t('field.status'), value: t(`status.${i.status}`) },
    { label: t('field.alerts'), value: t('alertCount', { firing: i.firing, total: i.total }) },
    {
      label: t('field.started'),
      value: `${time(i.createdAt)} (${formatDuration(Math.max(0, deps.now() - i.createdAt))})`,
    },
  ];
  if (i.flapping) fields.push({ label: t('field.flapping'), value: t('flappingNote') });
  if (i.ackedBy) fields.push({ label: t('field.ackedBy'), value: `@${i.ackedBy}` });
  if (i.status === 'snoozed' && i.snoozedUntil)
    fields.push({ label: t('field.snoozedUntil'), value: time(i.snoozedUntil) });
  const labels = config.cardLabels.filter((l) => i.labels[l]).map((l) => mdCode(`${l}=${i.labels[l]}`, 200));
  const firing = alerts.filter((a) => a.status === 'firing');
  const resolved = alerts.filter((a) => a.status === 'resolved');
  const line = (a: StoredAlert) => {
    const summary = a.annotations.description || a.annotations.summary;
    const link = a.links[0];
    const title = mdText(a.title, 200);
    return `${a.status === 'firing' ? '🔥' : '✅'} ${link && safeUrl(link.url) ? `[${title}](${link.url})` : title}${summary && summary !== a.title ? ` — ${mdText(summary, 300)}` : ''}`;
  };
  const buttons: CardButton[] = [];
  if (i.status !== 'resolved') {
    buttons.push(
      i.status === 'acknowledged'
        ? {
            text: t('button.unack'),
            action: { id: deps.actions.unack, params: { incident: String(i.id) } },
            command: `unack ${i.id}`,
          }
        : {
            text: t('button.ack'),
            style: 'primary',
            action: { id: deps.actions.ack, params: { incident: String(i.id) } },
            command: `ack ${i.id}`,
          },
      {
        text: t('button.resolve'),
        action: { id: deps.actions.resolve, params: { incident: String(i.id) } },
        command: `resolve ${i.id}`,
      },
    );
    // The first two presets as buttons (any duration by command).
    for (const snooze of config.snoozePresets.slice(0, 2))
      buttons.push({
        text: t('button.snooze', { duration: formatDuration(snooze) }),
        action: { id: deps.actions.snooze, params: { incident: String(i.id), ms: String(snooze) } },
        command: `snooze ${i.id} ${formatDuration(snooze)}`,
      });
    buttons.push({
      text: t('button.silence', { duration: '2h' }),
      style: 'danger',
      action: { id: deps.actions.silence, params: { incident: String(i.id), ms: String(2 * 3_600_000) } },
      command: `silence incident ${i.id} 2h`,
    });
    if (!i.room) buttons.push(...(deps.extraButtons?.(i, alerts) ?? []));
  }
  // The linked room (war room): named on every copy of the card, one click away when DingTalk gave its link.
  if (i.room) {
    fields.push({ label: t('field.room'), value: mdText(i.room.title) });
    if (i.room.url) buttons.push({ text: t('button.room'), url: i.room.url });
  }
  return card({
    // A resolved incident is no longer red: its icon says it is over.
    title: `${i.status === 'resolved' ? '✅' : SEVERITY_ICON[i.severity]} #${i.id} ${mdText(incidentTitle(i, config.grouping.by), 200)}`,
    status: statusOf(i),
    fields,
    sections: [
      ...(labels.length ? [{ items: [labels.join(' ')] }] : []),
      ...(firing.length
        ? [{ title: t('section.firing', { count: firing.length }), items: firing.map(line) }]
        : []),
      ...(resolved.length
        ? [{ title: t('section.resolved', { count: resolved.length }), items: resolved.map(line) }]
        : []),
    ],
    buttons,
    mentions,
    footer: t('footer', { id: i.id }),
  });
}

/** "level 2 of 3 (round 2): unacknowledged for 12m; paged before: ops, @Bob". */
function escalationText(e: EscalationNote, deps: CardDeps): string {
  const before = [
    ...e.pagedBefore.groups.map((g) => mdText(deps.groupName(g), 100)),
    ...e.pagedBefore.people.map((p) => `@${mdText(deps.personName(p), 100)}`),
  ];
  return deps.t(e.round > 1 ? 'escalatedNoteRound' : 'escalatedNote', {
    level: e.level,
    levels: e.levels,
    round: e.round,
    unacked: formatDuration(e.unackedMs),
    before: before.length ? before.join(', ') : '—',
  });
}

/** One card for many new incidents in a storm: each line says how to act on it. */
export function digestCard(
  list: Incident[],
  deps: Pick<CardDeps, 't'> & { groupBy: readonly string[] },
): Card {
  const { t } = deps;
  const worst = list.some((i) => i.severity === 'critical') ? 'critical' : 'warning';
  return card({
    title: t('digest.title', { count: list.length }),
    status: worst,
    body: t('digest.body'),
    sections: [
      {
        items: list.map(
          (i) =>
            `${SEVERITY_ICON[i.severity]} **#${i.id}** ${mdText(incidentTitle(i, deps.groupBy), 200)} · ${t('alertCount', { firing: i.firing, total: i.total })} · \`ack ${i.id}\``,
        ),
      },
    ],
    footer: t('digest.footer'),
  });
}

/** A link from an alert is shown only when it is an http(s) URL with nothing that could end the markdown link early. */
function safeUrl(url: string): boolean {
  return /^https?:\/\/[^\s()<>]+$/i.test(url) && url.length <= 2000;
}
