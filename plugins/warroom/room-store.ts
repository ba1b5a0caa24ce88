import { present } from 'dingops';
import type { Kysely, Selectable } from 'kysely';

export type RoomStatus = 'opening' | 'open' | 'closed';

export interface Room {
  incidentId: number;
  uuid: string;
  status: RoomStatus;
  title: string;
  openConversationId?: string;
  url?: string;
  openedBy: string;
  openedByNick: string;
  members: string[];
  /** People who could not be invited, by the name they were configured with. */
  unresolved: string[];
  summaryCardId?: string;
  createdAt: number;
  openedAt?: number;
  lastUpdateAt?: number;
  lastUpdateBy?: string;
  lastReminderAt?: number;
  closedAt?: number;
  postmortem?: string;
}

/** The plugin's table (the columns `migrations.ts` creates); a type so Kysely's `withTables` takes it. */
export type WarroomTables = {
  warroom_room: {
    incident_id: number;
    /** The scene group creation's idempotency key, derived from the incident. */
    uuid: string;
    status: RoomStatus;
    title: string;
    open_conversation_id: string | null;
    url: string | null;
    opened_by: string;
    opened_by_nick: string;
    /** JSON list of userIds. */
    members: string;
    /** JSON list of the names that could not be resolved. */
    unresolved: string;
    summary_card_id: string | null;
    created_at: number;
    opened_at: number | null;
    last_update_at: number | null;
    last_update_by: string | null;
    last_reminder_at: number | null;
    closed_at: number | null;
    postmortem: string | null;
  };
};

const num = (v: number | null | undefined) => (v === null || v === undefined ? undefined : Number(v));

/** The `warroom_room` table: one row per incident, from the moment a room is asked for. */
export class RoomStore {
  constructor(private readonly db: Kysely<WarroomTables>) {}

  async get(incidentId: number): Promise<Room | undefined> {
    const r = await this.db
      .selectFrom('warroom_room')
      .selectAll()
      .where('incident_id', '=', incidentId)
      .executeTakeFirst();
    return r ? toRoom(r) : undefined;
  }

  async byConversation(openConversationId: string): Promise<Room | undefined> {
    const r = await this.db
      .selectFrom('warroom_room')
      .selectAll()
      .where('open_conversation_id', '=', openConversationId)
      .executeTakeFirst();
    return r ? toRoom(r) : undefined;
  }

  async list(status: RoomStatus): Promise<Room[]> {
    const rows = await this.db
      .selectFrom('warroom_room')
      .selectAll()
      .where('status', '=', status)
      .orderBy('incident_id')
      .execute();
    return rows.map(toRoom);
  }

  /** Forgets an opening that failed (an open room stays). */
  async abandon(incidentId: number): Promise<void> {
    await this.db
      .deleteFrom('warroom_room')
      .where('incident_id', '=', incidentId)
      .where('status', '=', 'opening')
      .execute();
  }

  /** Records that a room is being opened; false when a row was already there. */
  async begin(room: Pick<Room, 'incidentId' | 'uuid' | 'title' | 'openedBy' | 'openedByNick' | 'createdAt'>) {
    const r = await this.db
      .insertInto('warroom_room')
      .values({
        incident_id: room.incidentId,
        uuid: room.uuid,
        status: 'opening',
        title: room.title,
        opened_by: room.openedBy,
        opened_by_nick: room.openedByNick,
        members: '[]',
        unresolved: '[]',
        created_at: room.createdAt,
      })
      .onConflict((oc) => oc.column('incident_id').doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
  }

  async update(incidentId: number, patch: Partial<Room>): Promise<void> {
    const set: Record<string, unknown> = {};
    const columns: Record<string, string> = {
      status: 'status',
      openConversationId: 'open_conversation_id',
      url: 'url',
      summaryCardId: 'summary_card_id',
      openedAt: 'opened_at',
      lastUpdateAt: 'last_update_at',
      lastUpdateBy: 'last_update_by',
      lastReminderAt: 'last_reminder_at',
      closedAt: 'closed_at',
      postmortem: 'postmortem',
    };
    for (const [k, v] of Object.entries(patch)) {
      if (k === 'members' || k === 'unresolved') set[k] = JSON.stringify(v);
      else if (columns[k]) set[columns[k]] = v ?? null;
    }
    await this.db.updateTable('warroom_room').set(set).where('incident_id', '=', incidentId).execute();
  }

  /**
   * Takes a reminder: only the caller whose update still sees the times it read goes on,
   * so several replicas (or overlapping checks) remind once.
   */
  async claimReminder(room: Room, at: number): Promise<boolean> {
    let q = this.db
      .updateTable('warroom_room')
      .set({ last_reminder_at: at })
      .where('incident_id', '=', room.incidentId)
      .where('status', '=', 'open');
    q =
      room.lastReminderAt === undefined
        ? q.where('last_reminder_at', 'is', null)
        : q.where('last_reminder_at', '=', room.lastReminderAt);
    const r = await q.executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }
}

function toRoom(r: Selectable<WarroomTables['warroom_room']>): Room {
  return {
    incidentId: Number(r.incident_id),
    uuid: r.uuid,
    status: r.status,
    title: r.title,
    openConversationId: r.open_conversation_id ?? undefined,
    url: r.url ?? undefined,
    openedBy: r.opened_by,
    openedByNick: r.opened_by_nick,
    members: JSON.parse(r.members) as string[],
    unresolved: JSON.parse(r.unresolved) as string[],
    summaryCardId: r.summary_card_id ?? undefined,
    createdAt: Number(r.created_at),
    openedAt: num(r.opened_at),
    lastUpdateAt: num(r.last_update_at),
    lastUpdateBy: r.last_update_by ?? undefined,
    lastReminderAt: num(r.last_reminder_at),
    closedAt: num(r.closed_at),
    postmortem: r.postmortem ?? undefined,
  };
}

/** An open (or closed) room's group: set when the scene group was made, before the room counts as open. */
export function roomConversation(room: Room): string {
  return present(room.openConversationId, `the group of war room ${room.incidentId}`);
}
