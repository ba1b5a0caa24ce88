import { type Card, GroupReferenceError, type PluginContext, present } from 'dingops';
import type { Logger } from 'pino';
import type { AlertsConfig } from './config.js';
import type { Incident } from './incident.js';
import type { IncidentStore } from './incident-store.js';
import { Silences } from './silences.js';
import type { WaitingGroups } from './waiting-groups.js';

export interface NotifierDeps {
  store: IncidentStore;
  silences: Silences;
  config: AlertsConfig;
  ctx: PluginContext<unknown>;
  /** The incident's card as it is now (with @mentions; for an escalation, saying so). */
  render: (i: Incident, mentions?: string[], escalation?: EscalationNote) => Promise<Card>;
  /** One card listing new incidents (a storm). */
  renderDigest: (list: Incident[]) => Card;
  /** userId for a `people` entry, a userId or a mobile; undefined when it cannot be resolved. */
  person: (ref: string) => Promise<string | undefined>;
  log: Logger;
  now: () => number;
  /** Told when an escalation level is reached (more responders). */
  changed?: (id: number, kind: string, detail: string) => void;
  /** Incidents waiting for a group the bot does not know yet. */
  waiting: WaitingGroups;
}

/**
 * What an escalation's card says to the people it pages: that it is one, which level of how
 * many (and round), how long the incident went unacknowledged, and who was paged before
 * (group and people references as configured).
 */
export interface EscalationNote {
  level: number;
  levels: number;
  round: number;
  unackedMs: number;
  pagedBefore: { groups: string[]; people: string[] };
}

/**
 * Sends what is due: first notifications after `group_wait`, changes after `group_interval`
 * (cards updated in place, no new message), reminders after `repeat_interval`, the end of
 * snoozes, and escalation levels. Due times live in the store and are claimed before
 * anything is sent, so a restart resumes them and none fires twice.
 */
export class Notifier {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private wake: NodeJS.Timeout | undefined;
  /** When the armed wake fires. */
  private wakeAt: number | undefined;
  private intervalMs = 1000;
  private stopped = false;
  private again = false;

  private readonly store: NotifierDeps['store'];
  private readonly silences: NotifierDeps['silences'];
  private readonly config: NotifierDeps['config'];
  private readonly ctx: NotifierDeps['ctx'];
  private readonly render: NotifierDeps['render'];
  private readonly renderDigest: NotifierDeps['renderDigest'];
  private readonly person: NotifierDeps['person'];
  private readonly log: NotifierDeps['log'];
  private readonly now: NotifierDeps['now'];
  private readonly changed: NotifierDeps['changed'];
  private readonly waiting: NotifierDeps['waiting'];

  constructor(deps: NotifierDeps) {
    this.store = deps.store;
    this.silences = deps.silences;
    this.config = deps.config;
    this.ctx = deps.ctx;
    this.render = deps.render;
    this.renderDigest = deps.renderDigest;
    this.person = deps.person;
    this.log = deps.log;
    this.now = deps.now;
    this.changed = deps.changed;
    this.waiting = deps.waiting;
  }

  start(intervalMs = 1000): void {
    this.intervalMs = intervalMs;
    this.timer = setInterval(() => this.kick(), intervalMs);
    this.timer.unref();
    this.kick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.wake);
    await this.running;
  }

  /**
   * Something was made due at `at` (an ingest): a pass then. Not a pass now: a busy webhook
   * would scan the store once per request for what is, with a group_wait, seconds away.
   * Beyond the interval, the passes every interval arm the wake themselves.
   */
  dueAt(at: number): void {
    if (this.stopped) return;
    const delay = at - this.now();
    if (delay <= 0) void this.kick();
    else if (delay < this.intervalMs && (this.wakeAt === undefined || at < this.wakeAt)) this.armWake(at);
  }

  private armWake(at: number): void {
    clearTimeout(this.wake);
    this.wakeAt = at;
    this.wake = setTimeout(
      () => {
        this.wakeAt = undefined;
        void this.kick();
      },
      Math.max(0, at - this.now()),
    );
    this.wake.unref();
  }

  /** Runs a pass now (or right after the one in progress). */
  kick(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.pass()
      .catch((err) => this.log.error({ err }, 'alerts: notification pass failed'))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          void this.kick();
        }
      });
    return this.running;
  }

  private async pass(): Promise<void> {
    const now = this.now();
    const due = await this.store.due('notify_due_at', now);
    // First notifications of new incidents go through the digest gate, per destination.
    const fresh = new Map<string, Incident[]>();
    for (const i of due) {
      if (i.lastNotifiedAt === undefined && i.status === 'triggered' && i.route.groups.length) {
        const key = i.route.groups.join(',');
        fresh.set(key, [...(fresh.get(key) ?? []), i]);
      } else await this.notify(i, now);
    }
    // A few new incidents get a card each; more at once (a storm) get one digest card.
    for (const list of fresh.values()) {
      if (list.length <= this.config.digest.threshold) for (const i of list) await this.notify(i, now);
      else await this.digest(list, now);
    }
    for (const i of await this.store.due('escalation_due_at', now)) await this.escalate(i, now);
    // Wake exactly when the next thing is due (group_wait ends mid-interval), not at the next tick.
    const next = await this.store.nextDue();
    clearTimeout(this.wake);
    this.wakeAt = undefined;
    if (!this.stopped && next !== undefined && next - this.now() < this.intervalMs) this.armWake(next);
  }

  /** One card for many new incidents of the same destinations (a storm). */
  private async digest(list: Incident[], now: number): Promise<void> {
    const { store, config, ctx } = this;
    const taken: Incident[] = [];
    for (const i of list) {
      if (!(await store.claim(i.id, 'notify_due_at', i.notifyDueAt, now + config.grouping.repeatInterval)))
        continue;
      if (await this.silenced(i)) {
        await store.note(i.id, 'dingops', 'notify.muted', 'silence');
        continue;
      }
      taken.push(i);
    }
    const [lead] = taken;
    if (!lead) return;
    const card = this.renderDigest(taken);
    for (const g of lead.route.groups) {
      try {
        const r = await ctx.send.toGroup(g, card);
        for (const i of taken) {
          if (r.cardId) await store.saveCard(i.id, `digest:${g}`, r.cardId);
          await store.note(
            i.id,
            'dingops',
            'notified',
            ctx.t('alerts.digestOf', { group: g, count: taken.length }),
          );
        }
      } catch (err) {
        if (err instanceof GroupReferenceError) {
          // Each waits for the group, and gets its own card once the group is known.
          for (const i of taken) await this.waitFor(i, g, err);
          continue;
        }
        this.log.error({ err, group: g }, 'alerts: cannot send a digest');
        for (const i of taken)
          await store.note(i.id, 'dingops', 'notify.failed', `${g}: ${(err as Error).message}`);
      }
    }
    // People on the route get the digest once, not a card per incident.
    for (const p of lead.route.people) {
      const userId = await this.person(p);
      if (userId)
        await ctx.send
          .toUser(userId, card)
          .catch((err) => this.log.warn({ err, person: p }, 'alerts: digest not sent'));
    }
    for (const i of taken) {
      await store.update(i.id, { last_notified_at: now });
      // The digest was the first level's notice; later levels go out per incident as usual.
      await this.startEscalation(i, now, { notifyFirstLevel: false });
    }
  }

  private async notify(i: Incident, now: number): Promise<void> {
    const { store, config } = this;
    const g = config.grouping;
    // Snoozed: when the snooze ends, a still-firing incident triggers again.
    if (i.status === 'snoozed') {
      if ((i.snoozedUntil ?? 0) > now) {
        // A change while snoozed waits for the snooze to end.
        await store.claim(i.id, 'notify_due_at', i.notifyDueAt, i.snoozedUntil ?? now);
        return;
      }
      if (!(await store.claim(i.id, 'notify_due_at', i.notifyDueAt, now + g.repeatInterval))) return;
      await store.update(i.id, { status: 'triggered', snoozed_until: null });
      await store.note(i.id, 'dingops', 'snooze.ended', '');
      const fresh = present(await store.incident(i.id), `incident ${i.id}`);
      await this.deliver(fresh, now, { newMessage: true });
      await this.startEscalation(fresh, now);
      return;
    }
    // Reminders for what is still unacknowledged; not for flapping incidents (they would never stop).
    const repeat = i.status === 'triggered' && !i.flapping ? now + g.repeatInterval : null;
    const last = i.lastNotifiedAt;
    const first = last === undefined;
    if (first && i.status !== 'resolved' && !(await this.silenced(i))) {
      // The first notification (and the first escalation level) is sent before its due time is
      // claimed, with keyed sends: a replica that dies in between leaves it due, and the one
      // that does it again queues nothing twice. Claimed first, a crash would lose it.
      await this.deliver(i, now, { newMessage: true, key: `alerts:${i.id}:first` });
      await this.startEscalation(i, now);
      await store.claim(i.id, 'notify_due_at', i.notifyDueAt, repeat);
      return;
    }
    if (!(await store.claim(i.id, 'notify_due_at', i.notifyDueAt, repeat))) return;
    if (first && i.status === 'resolved') {
      // Resolved within group_wait: nobody was told it started, so nothing to say now.
      await store.note(i.id, 'dingops', 'notify.skipped', 'resolved before the first notification');
      return;
    }
    const silence = await this.silenced(i);
    if (silence && !(i.status === 'resolved' && config.sendResolvedForSilenced)) {
      await store.note(i.id, 'dingops', 'notify.muted', `silence #${silence}`);
      return;
    }
    // A reminder (repeat_interval passed, still unacknowledged) is a new message; other changes update the cards.
    const reminder = last !== undefined && last + g.repeatInterval <= now && i.status === 'triggered';
    await this.deliver(i, now, { newMessage: first || reminder });
    if (first) await this.startEscalation(i, now);
  }

  /** The silence muting every firing alert of the incident (then it stays quiet), if any. */
  private async silenced(i: Incident): Promise<number | undefined> {
    const active = await this.silences.active();
    if (!active.length) return undefined;
    const alerts = await this.store.alerts(i.id);
    const firing = alerts.filter((a) => a.status === 'firing');
    const considered = firing.length ? firing : alerts;
    const hits = considered.map((a) => Silences.muting(active, a.labels));
    return hits.every((h) => h) ? hits[0]?.id : undefined;
  }

  /** Sends the card to the route's groups and people (new messages), or updates the cards already sent. */
  async deliver(
    i: Incident,
    now: number,
    options: { newMessage: boolean; mentions?: string[]; key?: string },
  ): Promise<void> {
    const { ctx, store } = this;
    const card = await this.render(i, options.mentions);
    const sent = await store.cards(i.id);
    if (!options.newMessage && sent.length) {
      // Its own cards are updated in place; a digest it was listed in stays as it is.
      for (const c of sent.filter((x) => !x.destination.startsWith('digest:')))
        await ctx.send
          .updateCard(c.cardId, card)
          .catch((err) => this.log.warn({ err, incident: i.id }, 'alerts: card update failed'));
      await store.update(i.id, { last_notified_at: now });
      return;
    }
    const reached = await this.sendTo(i, card, i.route.groups, i.route.people, options.key);
    if (reached === 0 && i.route.groups.length + i.route.people.length > 0) {
      // Nobody could be told (a group title not known yet, a person without a userId): try
      // again after group_interval rather than drop the notification.
      await store.update(i.id, { notify_due_at: now + this.config.grouping.groupInterval });
      return;
    }
    await store.update(i.id, { last_notified_at: now });
  }

  /** A group the bot does not know yet (a fresh install): the incident waits for it, it is not dropped. */
  private async waitFor(i: Incident, group: string, err: Error): Promise<void> {
    await this.waiting.wait(group, i.id);
    this.log.warn({ incident: i.id, group, reason: err.message }, 'alerts: waiting for a group');
    await this.store.note(i.id, 'dingops', 'notify.waiting', group);
  }

  /** A group became known: the incidents that waited for it get their card there now. */
  async groupKnown(refs: string[]): Promise<void> {
    for (const ref of refs)
      for (const id of await this.waiting.take(ref)) {
        const i = await this.store.incident(id);
        if (!i || i.status === 'resolved') continue;
        if (i.lastNotifiedAt === undefined) {
          // Never notified: its first notification is made due now, and the notifier's pass
          // (on this replica or another) claims it like any due time: one card, not two.
          await this.store.update(i.id, { notify_due_at: this.now() });
          void this.kick();
          continue;
        }
        // Notified elsewhere already: the group it waited for gets its card now.
        await this.sendTo(i, await this.render(i), [ref], []);
      }
  }

  /**
   * Sends a new card to groups and people; resolves to how many of them were reached. With a
   * `key`, each send is keyed by it and its destination (done again, nothing is sent twice).
   */
  private async sendTo(
    i: Incident,
    card: Card,
    groups: string[],
    people: string[],
    key?: string,
  ): Promise<number> {
    const { ctx, store } = this;
    let reached = 0;
    for (const g of groups) {
      try {
        const r = await ctx.send.toGroup(g, card, {
          atUserIds: card.mentions,
          idempotencyKey: key && `${key}:group:${g}`,
        });
        if (r.cardId) await store.saveCard(i.id, `group:${g}`, r.cardId);
        reached++;
        await store.note(i.id, 'dingops', 'notified', g);
        await this.waiting.reached(g, i.id);
      } catch (err) {
        if (err instanceof GroupReferenceError) {
          await this.waitFor(i, g, err);
          continue;
        }
        this.log.error({ err, incident: i.id, group: g }, 'alerts: cannot notify a group');
        await store.note(i.id, 'dingops', 'notify.failed', `${g}: ${(err as Error).message}`);
      }
    }
    for (const p of people) {
      const userId = await this.person(p);
      if (!userId) {
        await store.note(i.id, 'dingops', 'notify.failed', ctx.t('alerts.noUserId', { person: p }));
        continue;
      }
      try {
        const r = await ctx.send.toUser(userId, card, { idempotencyKey: key && `${key}:user:${userId}` });
        if (r.cardId) await store.saveCard(i.id, `user:${userId}`, r.cardId);
        reached++;
        await store.note(i.id, 'dingops', 'notified', `@${userId}`);
      } catch (err) {
        await store.note(i.id, 'dingops', 'notify.failed', `@${userId}: ${(err as Error).message}`);
      }
    }
    return reached;
  }

  // --- escalation

  async startEscalation(i: Incident, now: number, options = { notifyFirstLevel: true }): Promise<void> {
    const policy = i.route.escalation ? this.config.escalations[i.route.escalation] : undefined;
    const firstLevel = policy?.levels[0];
    if (!firstLevel || i.status !== 'triggered') return;
    await this.store.update(i.id, {
      escalation_level: 0,
      escalation_round: 0,
      escalation_due_at: now + firstLevel.after,
    });
    if (options.notifyFirstLevel) await this.notifyLevel(i, 0, `alerts:${i.id}:level:0:1`);
  }

  private async escalate(i: Incident, now: number): Promise<void> {
    const policy = i.route.escalation ? this.config.escalations[i.route.escalation] : undefined;
    if (!policy || i.status !== 'triggered') {
      await this.store.claim(i.id, 'escalation_due_at', i.escalationDueAt, null);
      return;
    }
    let level = (i.escalationLevel ?? 0) + 1;
    let round = i.escalationRound ?? 0;
    if (level >= policy.levels.length) {
      if (round >= policy.repeat) {
        await this.store.claim(i.id, 'escalation_due_at', i.escalationDueAt, null);
        return;
      }
      level = 0;
      round++;
    }
    const next = now + (policy.levels[level]?.after ?? 0);
    // Sent before the due time is claimed, keyed by round and level (see `notify`): exactly
    // once across a crash and across replicas; the level moves in the claiming statement.
    // Who was paged before this level: the route's own targets, then the earlier levels (all
    // of them once the levels run again).
    const earlier = [i.route, ...(round > 0 ? policy.levels : policy.levels.slice(0, level))];
    await this.notifyLevel(i, level, `alerts:${i.id}:level:${round}:${level + 1}`, {
      level: level + 1,
      levels: policy.levels.length,
      round: round + 1,
      unackedMs: Math.max(0, now - i.createdAt),
      pagedBefore: {
        groups: [...new Set(earlier.flatMap((t) => t.groups))],
        people: [...new Set(earlier.flatMap((t) => t.people))],
      },
    });
    const claimed = await this.store.claim(i.id, 'escalation_due_at', i.escalationDueAt, next, {
      escalation_level: level,
      escalation_round: round,
    });
    if (!claimed) return;
    await this.store.note(
      i.id,
      'dingops',
      'escalated',
      `level ${level + 1}${round ? ` (round ${round + 1})` : ''}`,
    );
    this.changed?.(i.id, 'escalated', `level ${level + 1}`);
  }

  private async notifyLevel(i: Incident, level: number, key: string, note?: EscalationNote): Promise<void> {
    const policy = i.route.escalation ? this.config.escalations[i.route.escalation] : undefined;
    const l = policy?.levels[level];
    if (!l) return;
    const mentions = (await Promise.all(l.people.map((p) => this.person(p)))).filter((u): u is string => !!u);
    if (!l.groups.length && !l.people.length) return;
    const card = await this.render(i, mentions, note);
    // Level 1 people are told in the route's groups (with an @); others by direct message too.
    await this.sendTo(i, card, l.groups, l.people, key);
  }
}
