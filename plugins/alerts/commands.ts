import {
  type Caller,
  card,
  formatDuration,
  mdCode,
  mdText,
  type PluginContext,
  parseDuration,
  UserError,
} from 'dingops';
import type { AlertsConfig } from './config.js';
import type { Incident } from './incident.js';
import type { IncidentActions } from './incident-actions.js';
import type { IncidentStore } from './incident-store.js';
import { incidentTitle } from './incident-title.js';
import { type Matcher, parseMatcher } from './matchers.js';
import { SEVERITY_ICON } from './model.js';
import type { ResponderPolicy } from './responders.js';
import { route } from './router.js';
import { MAX_SILENCE_MS, MIN_SILENCE_MS, Silences } from './silences.js';

/** Silences are bounded like snoozes: a typo of `99999999d` is refused, not stored. */
function checkSilenceDuration(ms: number): void {
  if (ms < MIN_SILENCE_MS || ms > MAX_SILENCE_MS)
    throw new UserError('alerts.silenceDuration', {
      min: formatDuration(MIN_SILENCE_MS),
      max: formatDuration(MAX_SILENCE_MS),
    });
}

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
    summary: (i: Incident, silence?: number) => string;
    /** Throws unless the caller may change this incident. */
    mayRespond: (id: number, who: Caller) => Promise<void>;
    responders: ResponderPolicy;
  },
): void {
  const { store, silences, actions, mayRespond, responders } = deps;
  // The incident named (or this war room's), once the caller may change it.
  const respond = async (c: Parameters<typeof target>[0] & { caller: Caller }) => {
    const id = await target(c);
    await mayRespond(id, c.caller);
    return id;
  };
  const actor = (c: { caller: { userId: string; nick: string } }) => ({
    userId: c.caller.userId,
    nick: c.caller.nick,
  });
  // A time out of Date's range (a row from before durations were bounded) reads as "-", not an error.
  const time = (ms: number) =>
    Number.isFinite(ms) && Math.abs(ms) <= 8.64e15
      ? new Date(ms).toISOString().replace('T', ' ').slice(0, 16)
      : '-';
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
    handler: async (c) => actions.ack(await respond(c), actor(c)),
  });
  ctx.commands.register({
    name: 'unack',
    description: 'alerts.cmd.unack',
    args: [roomId],
    sideEffects: true,
    handler: async (c) => actions.unack(await respond(c), actor(c)),
  });
  ctx.commands.register({
    name: 'resolve',
    aliases: ['解决'],
    description: 'alerts.cmd.resolve',
    args: [roomId],
    options: [{ name: 'note', type: 'string', description: 'alerts.arg.note' }],
    sideEffects: true,
    handler: async (c) => actions.resolve(await respond(c), actor(c), c.args.note ?? ''),
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
    handler: async (c) => actions.snooze(await respond(c), c.args.duration, actor(c)),
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
          // Not tied to one incident: only the configured responders (and admins) may.
          responders.check(c.caller);
          const terms = c.args.terms as string[];
          const last = terms.at(-1) ?? '';
          const ms = parseDuration(last);
          // A last word that is no matcher is meant as the duration: say what is wrong with it.
          if (ms === undefined && terms.length >= 2 && !/[=~]/.test(last))
            throw new UserError('alerts.silenceBadDuration', { value: last });
          if (ms === undefined || terms.length < 2) throw new UserError('alerts.silenceUsage');
          checkSilenceDuration(ms);
          const matchers: Matcher[] = [];
          for (const m of terms.slice(0, -1)) {
            try {
              matchers.push(parseMatcher(m));
            } catch (err) {
              throw new UserError('alerts.badMatcher', { error: (err as Error).message });
            }
          }
          const s = await silences.add(matchers, ms, c.caller.userId, String(c.args.comment ?? ''));
          return c.t('alerts.silenced', {
            id: s.id,
            matchers: s.text.map((t) => mdCode(t, 300)).join(' '),
            until: time(s.endsAt),
          });
        },
      },
      {
        // What the Silence button does, for the markdown fallback: the incident's grouping
        // labels as equality matchers, whatever their values contain.
        name: 'incident',
        description: 'alerts.cmd.silenceIncident',
        args: [
          id,
          {
            name: 'duration',
            type: 'duration',
            min: MIN_SILENCE_MS,
            max: MAX_SILENCE_MS,
            description: 'alerts.arg.duration',
          },
        ],
        sideEffects: true,
        handler: async (c) =>
          (await actions.silence(await respond(c), Number(c.args.duration), actor(c))).card,
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
                    `#${s.id} ${s.text.map((t) => mdCode(t, 200)).join(' ')} → ${time(s.endsAt)} · @${mdText(s.createdBy, 100)}${s.comment ? ` · ${mdText(s.comment, 200)}` : ''}`,
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
          responders.check(c.caller);
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
      // Open incidents an active silence mutes are marked (they stay quiet until it ends).
      const active = await silences.active();
      const open = (i: Incident) => i.status !== 'resolved';
      return card({
        title: c.t('alerts.incidentsTitle', { count: list.length }),
        status: 'info',
        sections: [
          {
            items: list.map((i) =>
              deps.summary(i, open(i) ? Silences.muting(active, i.labels)?.id : undefined),
            ),
          },
        ],
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
        title: `#${i.id} ${mdText(incidentTitle(i, ctx.config.grouping.by), 200)}`,
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
            items: Object.entries(i.labels).map(([k, v]) => mdCode(`${k}=${v}`)),
          },
          {
            title: c.t('alerts.section.alerts', { count: alerts.length }),
            items: alerts.map(
              (a) =>
                `${a.status === 'firing' ? '🔥' : '✅'} ${mdText(a.title, 200)} (${mdText(a.fingerprint, 100)})`,
            ),
          },
          {
            title: c.t('alerts.section.timeline'),
            items: timeline.map(
              (e) =>
                `${time(e.at)} **${mdText(e.actor, 100)}** ${timelineKind(c.t, e.kind)}${e.detail ? `: ${mdText(e.detail, 300)}` : ''}`,
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
                const [, name, value] = m ?? [];
                if (name === undefined || value === undefined)
                  throw new UserError('alerts.badLabel', { label: kv });
                labels[name] = value;
              }
              const r = route(ctx.config, labels);
              // The silences that would keep such an alert quiet, now.
              const muting = (await silences.active()).filter((x) => Silences.muting([x], labels));
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
                  {
                    label: c.t('alerts.field.silences'),
                    value: muting.length
                      ? muting
                          .map((x) => `#${x.id} ${x.text.map((m) => mdCode(m, 100)).join(' ')}`)
                          .join('; ')
                      : '-',
                  },
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
            if (!ctx.budget) throw new Error('no DingTalk budget');
            s = ctx.budget.snapshot();
          } catch {
            return c.t('alerts.budgetUnknown');
          }
          return c.t('alerts.budget', { used: s.used, limit: s.limit, projected: s.projected });
        },
      },
    ],
  });
}

/** One line of `incidents`: a silence that mutes it says so (its status alone would not). */
export function incidentSummary(
  t: (k: string, v?: Record<string, unknown>) => string,
  groupBy: readonly string[],
) {
  return (i: Incident, silence?: number) =>
    `#${i.id} ${i.status === 'resolved' ? '✅' : SEVERITY_ICON[i.severity]} **${mdText(incidentTitle(i, groupBy), 200)}** · ${t(`alerts.status.${i.status}`)}${silence ? ` · 🔇 ${t('alerts.silencedBy', { id: silence })}` : ''} · ${t('alerts.alertCount', { firing: i.firing, total: i.total })}${i.ackedBy ? ` · @${i.ackedBy}` : ''} · ${formatDuration(Math.max(0, Date.now() - i.createdAt))}`;
}

/** A timeline event's kind in the reader's language (a kind without a translation as it is). */
export function timelineKind(t: (key: string) => string, kind: string): string {
  const key = `alerts.timeline.${kind}`;
  const text = t(key);
  return text === key ? kind : text;
}
