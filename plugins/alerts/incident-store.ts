import type { Kysely, Updateable } from 'kysely';
import type { Incident, LinkedRoom, StoredAlert, TimelineEntry } from './incident.js';
import type { IncidentStatus } from './model.js';
import { type AlertsTables, num, toAlert, toIncident } from './tables.js';

/** Adds a line to an incident's timeline (inside the caller's transaction, when it has one). */
export async function addTimeline(
  db: Kysely<AlertsTables>,
  id: number,
  at: number,
  actor: string,
  kind: string,
  detail: string,
): Promise<void> {
  await db.insertInto('alerts_timeline').values({ incident_id: id, at, actor, kind, detail }).execute();
}

/**
 * The incidents as the rest of the plugin reads and changes them (the notifier, actions,
 * commands, war rooms): reads, due times and their claims, updates, linked rooms, sent cards.
 * Alerts come in through `AlertGrouping`.
 */
export class IncidentStore {
  constructor(
    private readonly db: Kysely<AlertsTables>,
    private readonly now: () => number = Date.now,
  ) {}

  /** Adds to an incident's timeline. */
  note(id: number, actor: string, kind: string, detail = ''): Promise<void> {
    return addTimeline(this.db, id, this.now(), actor, kind, detail);
  }

  // --- reads and updates used by the notifier, actions and commands

  async incident(id: number): Promise<Incident | undefined> {
    const r = await this.db.selectFrom('alerts_incident').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? toIncident(r) : undefined;
  }

  async alerts(incidentId: number): Promise<StoredAlert[]> {
    return (
      await this.db
        .selectFrom('alerts_alert')
        .selectAll()
        .where('incident_id', '=', incidentId)
        .orderBy('starts_at')
        .execute()
    ).map(toAlert);
  }

  async timelineOf(incidentId: number): Promise<TimelineEntry[]> {
    return (
      await this.db
        .selectFrom('alerts_timeline')
        .selectAll()
        .where('incident_id', '=', incidentId)
        .orderBy('id')
        .execute()
    ).map((r) => ({ at: Number(r.at), actor: r.actor, kind: r.kind, detail: r.detail }));
  }

  async list(filter: { status?: IncidentStatus[]; ackedBy?: string; limit: number }): Promise<Incident[]> {
    let q = this.db.selectFrom('alerts_incident').selectAll().orderBy('id', 'desc').limit(filter.limit);
    if (filter.status?.length) q = q.where('status', 'in', filter.status);
    if (filter.ackedBy) q = q.where('acked_by', '=', filter.ackedBy);
    return (await q.execute()).map(toIncident);
  }

  async nextDue(): Promise<number | undefined> {
    const r = await this.db
      .selectFrom('alerts_incident')
      .select((eb) => [eb.fn.min('notify_due_at').as('n'), eb.fn.min('escalation_due_at').as('e')])
      .executeTakeFirst();
    const times = [num(r?.n), num(r?.e)].filter((x): x is number => x !== undefined);
    return times.length ? Math.min(...times) : undefined;
  }

  /** Incidents whose notification (or escalation) time has come, oldest first. */
  async due(column: 'notify_due_at' | 'escalation_due_at', now: number): Promise<Incident[]> {
    return (
      await this.db
        .selectFrom('alerts_incident')
        .selectAll()
        .where(column, '<=', now)
        .orderBy('id')
        .limit(500)
        .execute()
    ).map(toIncident);
  }

  /**
   * Takes a due notification or escalation: only the caller whose update matched the due
   * time it read goes on, so none fires twice (across restarts or replicas).
   */
  async claim(
    id: number,
    column: 'notify_due_at' | 'escalation_due_at',
    seen: number | undefined,
    next: number | null,
    /** Written in the same statement (an escalation's new level). */
    also: Updateable<AlertsTables['alerts_incident']> = {},
  ): Promise<boolean> {
    // Nothing due: nothing to take.
    if (seen === undefined) return false;
    const r = await this.db
      .updateTable('alerts_incident')
      .set(
        column === 'notify_due_at' ? { ...also, notify_due_at: next } : { ...also, escalation_due_at: next },
      )
      .where('id', '=', id)
      .where(column, '=', seen)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async update(id: number, patch: Updateable<AlertsTables['alerts_incident']>): Promise<void> {
    await this.db
      .updateTable('alerts_incident')
      .set({ ...patch, updated_at: this.now() })
      .where('id', '=', id)
      .execute();
  }

  async linkRoom(id: number, room: LinkedRoom): Promise<void> {
    await this.update(id, { room: JSON.stringify(room), room_conversation: room.openConversationId });
  }

  /** The incident whose linked conversation this is. */
  async byRoom(openConversationId: string): Promise<Incident | undefined> {
    const r = await this.db
      .selectFrom('alerts_incident')
      .selectAll()
      .where('room_conversation', '=', openConversationId)
      .orderBy('id', 'desc')
      .executeTakeFirst();
    return r ? toIncident(r) : undefined;
  }

  async cards(incidentId: number): Promise<Array<{ destination: string; cardId: string }>> {
    return (
      await this.db.selectFrom('alerts_card').selectAll().where('incident_id', '=', incidentId).execute()
    ).map((r) => ({
      destination: r.destination,
      cardId: r.card_id,
    }));
  }

  async saveCard(incidentId: number, destination: string, cardId: string): Promise<void> {
    await this.db
      .insertInto('alerts_card')
      .values({ incident_id: incidentId, destination, card_id: cardId, sent_at: this.now() })
      // A notification done again (keyed sends: the same card) is recorded once.
      .onConflict((oc) => oc.columns(['card_id', 'incident_id']).doNothing())
      .execute();
  }
}
