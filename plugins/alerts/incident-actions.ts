import { type Card, formatDuration, present, UserError } from 'dingops';
import type { Incident } from './incident.js';
import type { IncidentStore } from './incident-store.js';
import { matcher } from './matchers.js';
import type { Notifier } from './notifier.js';
import type { Silences } from './silences.js';

export interface Actor {
  userId: string;
  nick: string;
}

/**
 * What people do to incidents, from a button or a command alike: each change is stored,
 * written to the timeline, and shown on every copy of the incident's card.
 */
export class IncidentActions {
  constructor(
    private readonly store: IncidentStore,
    private readonly silences: Silences,
    private readonly notifier: Notifier,
    private readonly render: (i: Incident) => Promise<Card>,
    private readonly grouping: { by: string[] },
    private readonly now: () => number = Date.now,
    /** Told after every change (other plugins hear of it as `alerts.incident.changed`). */
    private readonly changed: (id: number, kind: string, actor: string, detail: string) => void = () => {},
  ) {}

  private async load(id: number): Promise<Incident> {
    const i = await this.store.incident(id);
    if (!i) throw new UserError('alerts.noIncident', { id });
    return i;
  }

  async ack(id: number, by: Actor): Promise<Card> {
    const i = await this.load(id);
    if (i.status === 'resolved') throw new UserError('alerts.alreadyResolved', { id });
    if (i.status === 'acknowledged') throw new UserError('alerts.alreadyAcked', { id, by: i.ackedBy });
    // Acknowledged: no reminders, no escalation.
    await this.store.update(id, {
      status: 'acknowledged',
      acked_by: by.userId,
      snoozed_until: null,
      escalation_due_at: null,
      notify_due_at: null,
    });
    return this.after(id, by, 'acknowledged', '');
  }

  async unack(id: number, by: Actor): Promise<Card> {
    const i = await this.load(id);
    if (i.status !== 'acknowledged') throw new UserError('alerts.notAcked', { id });
    await this.store.update(id, { status: 'triggered', acked_by: null });
    const card = await this.after(id, by, 'unacknowledged', '');
    await this.notifier.startEscalation(present(await this.store.incident(id), `incident ${id}`), this.now());
    return card;
  }

  async resolve(id: number, by: Actor, note = ''): Promise<Card> {
    const i = await this.load(id);
    if (i.status === 'resolved') throw new UserError('alerts.alreadyResolved', { id });
    await this.store.update(id, {
      status: 'resolved',
      resolved_at: this.now(),
      snoozed_until: null,
      escalation_due_at: null,
      notify_due_at: null,
    });
    return this.after(id, by, 'resolved', note);
  }

  async snooze(id: number, ms: number, by: Actor): Promise<Card> {
    const i = await this.load(id);
    if (i.status === 'resolved') throw new UserError('alerts.alreadyResolved', { id });
    const until = this.now() + ms;
    // The notifier wakes it at `until`: a still-firing incident triggers again then.
    await this.store.update(id, {
      status: 'snoozed',
      snoozed_until: until,
      notify_due_at: until,
      escalation_due_at: null,
    });
    return this.after(id, by, 'snoozed', formatDuration(ms));
  }

  /** Silences the incident's grouping labels for `ms` (its cards say so; matching alerts stay quiet). */
  async silence(id: number, ms: number, by: Actor): Promise<{ card: Card; silenceId: number }> {
    const i = await this.load(id);
    const keys = Object.keys(i.labels).filter((k) => this.grouping.by.includes(k) || k === 'alertname');
    if (!keys.length) throw new UserError('alerts.nothingToSilence', { id });
    // Equality matchers built from the labels themselves: a value like `~.*` stays a value.
    const matchers = keys.map((k) => matcher(k, '=', i.labels[k] ?? ''));
    const s = await this.silences.add(matchers, ms, by.userId, `from incident #${id}`);
    return {
      card: await this.after(id, by, 'silenced', `#${s.id} ${s.text.join(' ')} ${formatDuration(ms)}`),
      silenceId: s.id,
    };
  }

  private async after(id: number, by: Actor, kind: string, detail: string): Promise<Card> {
    await this.store.note(id, by.userId, kind, detail);
    const i = present(await this.store.incident(id), `incident ${id}`);
    const card = await this.render(i);
    await this.notifier.deliver(i, this.now(), { newMessage: false });
    this.changed(id, kind, by.userId, detail);
    return card;
  }
}
