import {
  card,
  formatDuration,
  type PluginContext,
  parseDuration,
  TOKENS,
  UserError,
} from '../../core/index.js';
import type { AlertsConfig } from './config.js';
import type { IncidentActions } from './incident-actions.js';
import type { Incident, IncidentStore } from './incident-store.js';
import { parseMatcher } from './matchers.js';
import { SEVERITY_ICON } from './model.js';
import { route } from './router.js';
import type { Silences } from './silences.js';

const id = { name: 'id', type: 'int', min: 1, description: 'alerts.arg.id' } as const;
/** In an incident's war room the id may be left out. */
const roomId = { ...id, required: false } as const;

/** The same actions as the card buttons, typed: ack, unack, resolve, snooze, silence, incidents, incident, alerts. */
export function registerCommands(
  ctx: PluginContext<AlertsConfig>,
  deps: {
    store: IncidentStore;
    silences: Silences;
    actions: IncidentActions;
    summary: (i: Incident) => string;
  },
): void {
  const { store, silences, actions } = deps;
  const actor = (c: { caller: { userId: string; nick: string } }) => ({
    userId: c.caller.userId,
    nick: c.caller.nick,
  });
  const time = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 16);
  // The id given, else the incident whose war room this is.
  const target = async (c: {
    args: { id?: number };
    command: string;
    message: { conversation: { id: string; type: string } };
  }): Promise<number> => {
    if (c.args.id !== undefined) return c.args.id;
    const i =
      c.message.conversation.type === 'group' ? await store.byRoom(c.message.conversation.id) : undefined;
    if (!i) throw new UserError('alerts.needId', { command: c.command });
    return i.id;
  };

  ctx.commands.register({
    name: 'ack',
    aliases: ['认领'],
    description: 'alerts.cmd.ack',
    args: [roomId],
    sideEffects: true,
    handler: async (c) => actions.ack(await target(c), actor(c)),
  });
  ctx.commands.register({
    name: 'unack',
    description: 'alerts.cmd.unack',
    args: [roomId],
    sideEffects: true,
    handler: async (c) => actions.unack(await target(c), actor(c)),
  });
  ctx.commands.register({
    name: 'resolve',
    aliases: ['解决'],
    description: 'alerts.cmd.resolve',
    args: [roomId],
    options: [{ name: 'note', type: 'string', description: 'alerts.arg.note' }],
    sideEffects: true,
    handler: async (c) => actions.resolve(await target(c), actor(c), c.args.note ?? ''),
  });
  ctx.commands.register({
    name: 'snooze',
    description: 'alerts.cmd.snooze',
    args: [
      id,
      {
        name: 'duration',
        type: 'duration',
        min: 60_000,
        max: 7 * 86_400_000,
        description: 'alerts.arg.duration',
      },
    ],
    sideEffects: true,
    handler: async (c) => actions.snooze(c.args.id, c.args.duration, actor(c)),
  });
  ctx.commands.register({
    name: 'silence',
    description: 'alerts.cmd.silence',
    subcommands: [
      {
        name: 'add',
        description: 'alerts.cmd.silenceAdd',
        args: [{ name: 'terms', type: 'string', variadic: true, description: 'alerts.arg.silenceTerms' }],
        options: [{ name: 'comment', type: 'string', description: 'alerts.arg.comment' }],
        examples: ['silence add alertname=DiskFull env=~prod.* 2h --comment "disk swap"'],
        sideEffects: true,
        handler: async (c) => {
          const terms = c.args.terms as string[];
          const ms = parseDuration(terms.at(-1) ?? '');
          if (ms === undefined || terms.length < 2) throw new UserError('alerts.silenceUsage');
          const matchers = terms.slice(0, -1);
          for (const m of matchers) {
            try {
              parseMatcher(m);
            } catch (err) {
              throw new UserError('alerts.badMatcher', { error: (err as Error).message });
            }
          }
          const s = await silences.add(matchers, ms, c.caller.userId, String(c.args.comment ?? ''));
          return c.t('alerts.silenced', { id: s.id, matchers: matchers.join(' '), until: time(s.endsAt) });
        },
      },
      {
        name: 'list',
        description: 'alerts.cmd.silenceList',
        handler: async (c) => {
          const list = await silences.active();
          if (!list.length) return c.t('alerts.noSilences');
          return card({
            title: c.t('alerts.silencesTitle', { count: list.length }),
            status: 'neutral',
            sections: [
              {
                items: list.map(
                  (s) =>
                    `#${s.id} \`${s.text.join(' ')}\` → ${time(s.endsAt)} · @${s.createdBy}${s.comment ? ` · ${s.comment}` : ''}`,
                ),
              },
            ],
          });
        },
      },
      {
        name: 'remove',
        description: 'alerts.cmd.silenceRemove',
        args: [{ name: 'id', type: 'int', min: 1 }],
        sideEffects: true,
        handler: async (c) => {
          if (!(await silences.remove(Number(c.args.id))))
            throw new UserError('alerts.noSilence', { id: c.args.id });
          return c.t('alerts.silenceRemoved', { id: c.args.id });
        },
      },
    ],
  });
  ctx.commands.register({
    name: 'incidents',
    description: 'alerts.cmd.incidents',
    options: [
      {
        name: 'status',
        type: 'enum',
        choices: ['open', 'triggered', 'acknowledged', 'snoozed', 'resolved', 'all'],
        default: 'open',
        description: 'alerts.arg.status',
      },
      { name: 'mine', type: 'boolean', description: 'alerts.arg.mine' },
    ],
    handler: async (c) => {
      const s = c.args.status as string;
      const status =
        s === 'all'
          ? undefined
          : s === 'open'
            ? (['triggered', 'acknowledged', 'snoozed'] as const)
            : ([s] as never[]);
      const list = await store.list({
        status: status ? [...status] : undefined,
        ackedBy: c.args.mine ? c.caller.userId : undefined,
        limit: 20,
      });
      if (!list.length) return c.t('alerts.noIncidents');
      return card({
        title: c.t('alerts.incidentsTitle', { count: list.length }),
        status: 'info',
        sections: [{ items: list.map(deps.summary) }],
      });
    },
  });
  ctx.commands.register({
    name: 'incident',
    description: 'alerts.cmd.incident',
    args: [roomId],
    handler: async (c) => {
      const incidentId = await target(c);
      const i = await store.incident(incidentId);
      if (!i) throw new UserError('alerts.noIncident', { id: incidentId });
      const timeline = await store.timelineOf(i.id);
      const alerts = await store.alerts(i.id);
      return card({
        title: `#${i.id} ${i.title}`,
        status: i.status === 'resolved' ? 'success' : 'info',
        fields: [
          { label: c.t('alerts.field.status'), value: c.t(`alerts.status.${i.status}`) },
          {
            label: c.t('alerts.field.route'),
            value: `${i.route.routes.join(', ')} → ${[...i.route.groups, ...i.route.people.map((p) => `@${p}`)].join(', ') || '-'}`,
          },
        ],
        sections: [
          {
            title: c.t('alerts.section.labels'),
            items: Object.entries(i.labels).map(([k, v]) => `\`${k}=${v}\``),
          },
          {
            title: c.t('alerts.section.alerts', { count: alerts.length }),
            items: alerts.map((a) => `${a.status === 'firing' ? '🔥' : '✅'} ${a.title} (${a.fingerprint})`),
          },
          {
            title: c.t('alerts.section.timeline'),
            items: timeline.map(
              (e) => `${time(e.at)} **${e.actor}** ${e.kind}${e.detail ? `: ${e.detail}` : ''}`,
            ),
          },
        ],
      });
    },
  });
  ctx.commands.register({
    name: 'alerts',
    description: 'alerts.cmd.alerts',
    subcommands: [
      {
        name: 'route',
        description: 'alerts.cmd.route',
        subcommands: [
          {
            name: 'test',
            description: 'alerts.cmd.routeTest',
            args: [{ name: 'labels', type: 'string', variadic: true, description: 'alerts.arg.labels' }],
            examples: ['alerts route test alertname=DiskFull severity=critical env=prod'],
            handler: async (c) => {
              const labels: Record<string, string> = {};
              for (const kv of c.args.labels as string[]) {
                const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(kv);
                if (!m) throw new UserError('alerts.badLabel', { label: kv });
                labels[m[1]!] = m[2]!;
              }
              const r = route(ctx.config, labels);
              const groups = r.groups.map((g) => {
                try {
                  const resolved = ctx.groups.resolve(g);
                  return resolved === g ? g : `${g} (${resolved})`;
                } catch (err) {
                  return `${g} ⚠️ ${(err as Error).message}`;
                }
              });
              return card({
                title: c.t('alerts.routeTestTitle'),
                status: 'info',
                fields: [
                  { label: c.t('alerts.field.routes'), value: r.routes.join(', ') },
                  { label: c.t('alerts.field.groups'), value: groups.join('; ') || '-' },
                  { label: c.t('alerts.field.people'), value: r.people.join(', ') || '-' },
                  { label: c.t('alerts.field.escalation'), value: r.escalation ?? '-' },
                ],
                footer: c.t('alerts.routeTestFooter'),
              });
            },
          },
        ],
      },
      {
        name: 'budget',
        description: 'alerts.cmd.budget',
        handler: async (c) => {
          let s: { used: number; limit: number; projected: number };
          try {
            s = ctx.services.resolve(TOKENS.ApiBudget).snapshot();
          } catch {
            return c.t('alerts.budgetUnknown');
          }
          return c.t('alerts.budget', { used: s.used, limit: s.limit, projected: s.projected });
        },
      },
    ],
  });
}

export function incidentSummary(t: (k: string, v?: Record<string, unknown>) => string) {
  return (i: Incident) =>
    `#${i.id} ${SEVERITY_ICON[i.severity]} **${i.title}** · ${t(`alerts.status.${i.status}`)} · ${t('alerts.alertCount', { firing: i.firing, total: i.total })}${i.ackedBy ? ` · @${i.ackedBy}` : ''} · ${formatDuration(Math.max(0, Date.now() - i.createdAt))}`;
}
