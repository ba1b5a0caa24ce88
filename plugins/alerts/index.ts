import { type Caller, type CardButton, definePlugin, GroupReferenceError, UserError } from 'dingops';
import { type IncidentsApi, type IncidentView, incidentView, pagedPeople } from './api.js';
import { incidentSummary, registerCommands } from './commands.js';
import { alertsConfigSchema } from './config.js';
import { AlertGrouping } from './grouping.js';
import { alertsCatalogs } from './i18n.js';
import type { Incident } from './incident.js';
import { IncidentActions } from './incident-actions.js';
import { type CardDeps, digestCard, incidentCard } from './incident-card.js';
import { IncidentStore } from './incident-store.js';
import { registerIngestRoutes } from './ingest/ingest-routes.js';
import { alertsMigrations } from './migrations.js';
import { type EscalationNote, Notifier } from './notifier.js';
import { ResponderPolicy } from './responders.js';
import { MAX_SILENCE_MS, MIN_SILENCE_MS, Silences } from './silences.js';
import { StormWatch } from './storm-watch.js';
import type { AlertsTables } from './tables.js';
import { WaitingGroups } from './waiting-groups.js';

/** Why a group named in the routes cannot be used, in the reader's language. */
function groupProblem(t: (key: string, vars?: Record<string, unknown>) => string, err: unknown): string {
  if (!(err instanceof GroupReferenceError)) return err instanceof Error ? err.message : String(err);
  if (err.disbanded) return t('alerts.doctor.groupDisbanded', { group: err.ref });
  if (err.unbound)
    return t('alerts.doctor.groupUnbound', {
      group: err.ref,
      carrying: err.matches.length ? t('alerts.doctor.groupCarrying', { ids: err.matches.join(', ') }) : '',
    });
  if (err.matches.length)
    return t('alerts.doctor.groupAmbiguous', { group: err.ref, ids: err.matches.join(', ') });
  const guess = err.suggestions.length
    ? t('alerts.doctor.didYouMean', { names: err.suggestions.join(', ') })
    : '';
  return err.known.length
    ? t('alerts.doctor.groupUnknown', { group: err.ref, guess, known: err.known.join(', ') })
    : t('alerts.doctor.noGroupYet', { group: err.ref });
}

const SNOOZE = { min: 60_000, max: 7 * 86_400_000 };
const SILENCE = { min: MIN_SILENCE_MS, max: MAX_SILENCE_MS };

/** A duration (ms) from a button's params: within the bounds the typed command has, or one the config offers. */
function durationParam(
  raw: string | undefined,
  bounds: { min: number; max: number },
  offered: readonly number[] = [],
): number {
  const ms = Number(raw);
  if (!Number.isSafeInteger(ms) || ((ms < bounds.min || ms > bounds.max) && !offered.includes(ms)))
    throw new UserError('alerts.badAction');
  return ms;
}

/**
 * Alert routing (README, "Alerts"): Alertmanager, Grafana and generic webhooks in;
 * incidents grouped Alertmanager-style, routed by label matchers to groups and people,
 * escalated until someone acknowledges; acknowledge, resolve, snooze and silence from the
 * card or by command.
 */
export default definePlugin({
  name: 'alerts',
  description: { en: 'Alert routing and incidents', 'zh-CN': '告警路由与故障处理' },
  config: alertsConfigSchema,
  i18n: alertsCatalogs,
  migrations: alertsMigrations,
  permissions: {
    qyapi_get_member_by_mobile: {
      en: 'notify people given by mobile number',
      'zh-CN': '通知以手机号配置的人员',
    },
  },
  setup(ctx) {
    const now = Date.now;
    const config = ctx.config;
    const db = ctx.store.tables<AlertsTables>();
    const store = new IncidentStore(db, now);
    const grouping = new AlertGrouping(db, () => config, now, ctx.store.dialect);
    const silences = new Silences(db, now);
    const timezone = ctx.timezone;

    const ids = {
      ack: 'alerts.ack',
      unack: 'alerts.unack',
      resolve: 'alerts.resolve',
      snooze: 'alerts.snooze',
      silence: 'alerts.silence',
    };
    // Buttons other plugins add to open incidents' cards (`addCardButtons`).
    const buttonProviders = new Set<(i: IncidentView) => CardButton[]>();
    const cardDeps = (): CardDeps => ({
      config,
      t: (k, v) => ctx.t(k, v),
      actions: ids,
      extraButtons: (i, alerts) => {
        const view = incidentView(i, alerts, config);
        return [...buttonProviders].flatMap((fn) => {
          try {
            return fn(view);
          } catch (err) {
            ctx.log.warn({ err }, 'alerts: a card button provider failed');
            return [];
          }
        });
      },
      now,
      timezone,
      groupName: (ref) => ctx.groups.get(ref)?.title ?? ref,
      // A mobile number is personal data: a card shows its configured name, or its last digits.
      personName: (ref) =>
        ctx.people.find(ref)?.name ?? (/^\+?[\d -]{5,20}$/.test(ref) ? `…${ref.slice(-4)}` : ref),
    });
    const render = async (i: Incident, mentions: string[] = [], escalation?: EscalationNote) =>
      incidentCard(i, await store.alerts(i.id), cardDeps(), mentions, escalation);

    // userIds of `people` entries, userIds, or mobiles (looked up once through the API, then cached).
    const person = async (ref: string): Promise<string | undefined> => {
      try {
        const r = await ctx.people.resolve(ref);
        if ('userId' in r) return r.userId;
        ctx.log.warn({ person: ref, reason: r.reason }, 'alerts: a person cannot be reached');
      } catch (err) {
        ctx.log.warn({ err, person: ref }, 'alerts: cannot resolve a mobile number to a userId');
      }
      return undefined;
    };

    const view = async (id: number): Promise<IncidentView | undefined> => {
      const i = await store.incident(id);
      return i ? incidentView(i, await store.alerts(i.id), config) : undefined;
    };
    // Other plugins hear of every change; told after the change is stored, never awaited by
    // the change itself (a button's answer must not wait for a war room's API calls).
    const changed = (id: number, kind: string, actor?: string, detail?: string) => {
      // The view reads the incident's alerts: not for nobody (a storm touches many incidents).
      if (!ctx.events.listening('alerts.incident.changed')) return;
      void (async () => {
        const incident = await view(id);
        if (incident) await ctx.events.emit('alerts.incident.changed', { incident, kind, actor, detail });
      })().catch((err) => ctx.log.warn({ err, incident: id }, 'alerts: change event failed'));
    };

    const renderDigest = (list: Incident[]) =>
      digestCard(list, { t: (k, v) => ctx.t(k, v), groupBy: config.grouping.by });
    const admins = ctx.access.admins;
    const waiting = new WaitingGroups(ctx.store.kv, async (group) => {
      for (const admin of admins)
        await ctx.send
          .toUser(admin, ctx.t('groupWaiting', { group }))
          .catch((err) => ctx.log.warn({ err }, 'alerts: could not tell an admin about a waiting group'));
    });
    const notifier = new Notifier({
      store,
      silences,
      config,
      ctx,
      render,
      renderDigest,
      person,
      log: ctx.log,
      now,
      changed: (id, kind, detail) => changed(id, kind, 'dingops', detail),
      waiting,
    });
    // The bot learns a group from its install event or the first @mention there.
    ctx.events.on('group.installed', ({ openConversationId, title }) =>
      notifier.groupKnown([openConversationId, ...(title ? [title] : [])]),
    );
    ctx.events.on('group.renamed', ({ openConversationId, title }) =>
      notifier.groupKnown([openConversationId, title]),
    );
    // A title of the routes now means a group: what waited for it goes there.
    ctx.events.on('group.bound', ({ openConversationId, title }) =>
      notifier.groupKnown([title, openConversationId]),
    );
    const storm = new StormWatch(config.storm.alertsPerMinute, now);
    const actions = new IncidentActions(
      store,
      silences,
      notifier,
      (i) => render(i),
      config.grouping,
      now,
      changed,
    );

    const responders = new ResponderPolicy(ctx);
    // Changing an incident: admins, the configured responders, the people it was sent to.
    const mayRespond = async (id: number, who: Caller) => {
      const i = await store.incident(id);
      responders.check(who, i ? pagedPeople(i, config) : []);
    };

    registerIngestRoutes(ctx, grouping, ({ accepted, incidents, nextDue }) => {
      if (nextDue !== undefined) notifier.dueAt(nextDue);
      for (const id of incidents) changed(id, 'alerts');
      const count = storm.add(accepted);
      if (count !== undefined)
        for (const g of config.defaultRoute.groups)
          void ctx.send
            .toGroup(g, ctx.t('storm', { count }))
            .catch((err) => ctx.log.warn({ err }, 'alerts: storm warning not sent'));
    });
    registerCommands(ctx, {
      store,
      silences,
      actions,
      summary: incidentSummary((k, v) => ctx.t(k, v), config.grouping.by),
      mayRespond,
      responders,
    });

    const api: IncidentsApi = {
      get: view,
      byRoom: async (cid) => {
        const i = await store.byRoom(cid);
        return i ? incidentView(i, await store.alerts(i.id), config) : undefined;
      },
      timeline: (id) => store.timelineOf(id),
      checkResponder: mayRespond,
      acknowledge: async (id, by) => void (await actions.ack(id, by)),
      resolve: async (id, by, note) => void (await actions.resolve(id, by, note)),
      note: async (id, by, text) => {
        if (!(await store.incident(id))) throw new Error(`no incident #${id}`);
        await store.note(id, by.userId, 'note', text);
        changed(id, 'note', by.userId, text);
      },
      linkRoom: async (id, room, by) => {
        await store.linkRoom(id, room);
        await store.note(id, by.userId, 'room.linked', room.title);
        const i = await store.incident(id);
        // Every copy of the card now names the room (and links to it).
        if (i && (await store.cards(id)).length) await notifier.deliver(i, now(), { newMessage: false });
        changed(id, 'room.linked', by.userId, room.title);
      },
      addCardButtons: (fn) => {
        buttonProviders.add(fn);
        return () => void buttonProviders.delete(fn);
      },
    };
    ctx.plugins.provide('alerts.incidents', api);

    const incidentParam = (p: Record<string, string>) => {
      const id = Number(p.incident);
      if (!Number.isSafeInteger(id) || id < 1) throw new UserError('alerts.badAction');
      return id;
    };
    const actor = (a: { caller: { userId: string; nick: string } }) => ({
      userId: a.caller.userId,
      nick: a.caller.nick,
    });
    // A button's params come back from DingTalk as the card had them, but a forged callback
    // can say anything: the incident id and duration are checked like a typed command's.
    const guarded = async (a: { params: Record<string, string>; caller: Caller }) => {
      const id = incidentParam(a.params);
      await mayRespond(id, a.caller);
      return id;
    };
    ctx.actions.register({
      name: 'ack',
      command: 'ack',
      handler: async (a) => ({ card: await actions.ack(await guarded(a), actor(a)) }),
    });
    ctx.actions.register({
      name: 'unack',
      command: 'unack',
      handler: async (a) => ({ card: await actions.unack(await guarded(a), actor(a)) }),
    });
    ctx.actions.register({
      name: 'resolve',
      command: 'resolve',
      handler: async (a) => ({ card: await actions.resolve(await guarded(a), actor(a)) }),
    });
    ctx.actions.register({
      name: 'snooze',
      command: 'snooze',
      handler: async (a) => ({
        card: await actions.snooze(
          await guarded(a),
          durationParam(a.params.ms, SNOOZE, config.snoozePresets),
          actor(a),
        ),
      }),
    });
    ctx.actions.register({
      name: 'silence',
      command: 'silence incident',
      handler: async (a) => {
        const ms = durationParam(a.params.ms, SILENCE);
        const r = await actions.silence(await guarded(a), ms, actor(a));
        return { card: r.card };
      },
    });

    ctx.status('incidents', async () => {
      const open = await store.list({ status: ['triggered', 'acknowledged', 'snoozed'], limit: 1000 });
      return {
        name: { key: 'alerts.board.name' },
        ok: true,
        detail: {
          key: 'alerts.board.detail',
          vars: { triggered: open.filter((i) => i.status === 'triggered').length, open: open.length },
        },
      };
    });
    // `doctor`: every group the config names must resolve to one installed group.
    ctx.diagnostics.register({
      id: 'alerts.groups',
      run: ({ t }) => {
        const named: Array<[string, string]> = [
          ...config.defaultRoute.groups.map((g): [string, string] => [
            g,
            'plugins.alerts.defaultRoute.groups',
          ]),
          ...config.routes.flatMap((r, i) =>
            r.groups.map((g): [string, string] => [g, `plugins.alerts.routes[${i}].groups`]),
          ),
          ...Object.entries(config.escalations).flatMap(([name, p]) =>
            p.levels.flatMap((l, i) =>
              l.groups.map((g): [string, string] => [
                g,
                `plugins.alerts.escalations.${name}.levels[${i}].groups`,
              ]),
            ),
          ),
        ];
        const problems = named.flatMap(([ref, where]) => {
          try {
            ctx.groups.resolve(ref);
            return [];
          } catch (err) {
            return [
              {
                id: `alerts.groups.${ref}`,
                severity: 'error' as const,
                message: groupProblem(t, err),
                where,
                fix: t('alerts.doctor.groupFix'),
              },
            ];
          }
        });
        return problems.length
          ? problems
          : {
              id: 'alerts.groups',
              severity: 'ok',
              message: t('alerts.doctor.groupsOk', { count: new Set(named.map(([g]) => g)).size }),
            };
      },
    });
    // `doctor`: a source signed without a timestamp has no replay window of its own.
    ctx.diagnostics.register({
      id: 'alerts.signatures',
      run: ({ t }) => {
        const untimed = Object.entries(config.sources)
          .filter(([, s]) => s?.hmacSecret && !s.timestampHeader)
          .map(([name]) => name);
        return untimed.map((source) => ({
          id: `alerts.signatures.${source}`,
          severity: 'warn' as const,
          message: t('alerts.doctor.untimedSignature', { source }),
          where: `plugins.alerts.sources.${source}.timestampHeader`,
          fix: t('alerts.doctor.untimedSignatureFix'),
        }));
      },
    });
    // `doctor`: the changing commands are not open to every member by accident.
    ctx.diagnostics.register({
      id: 'alerts.responders',
      run: ({ t }) => {
        if (responders.openToEveryone)
          return {
            id: 'alerts.responders',
            severity: 'warn',
            message: t('alerts.doctor.respondersOpen'),
            where: 'plugins.alerts.responders',
            fix: t('alerts.doctor.respondersFix'),
          };
        const roles = ctx.access.roles;
        const empty = config.responders
          .filter((r) => r.startsWith('role:') && !(roles[r.slice(5)] ?? []).length)
          .map((r) => r.slice(5));
        if (empty.length)
          return empty.map((role) => ({
            id: `alerts.responders.${role}`,
            severity: 'warn' as const,
            message: t('alerts.doctor.respondersNoRole', { role }),
            where: 'access.roles',
            fix: t('alerts.doctor.respondersRoleFix'),
          }));
        return {
          id: 'alerts.responders',
          severity: 'ok',
          message: t('alerts.doctor.respondersOk', { responders: config.responders.join(', ') }),
        };
      },
    });
    notifier.start();
    ctx.onDispose(() => notifier.stop());
  },
});
