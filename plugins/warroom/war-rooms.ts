import { createHash } from 'node:crypto';
import { type Caller, formatDuration, type PluginContext, present, UserError } from 'dingops';
import type { WarroomConfig } from './config.js';
import { explainError } from './explain-error.js';
import type { IncidentActor, IncidentChange, IncidentsApi, IncidentView } from './incidents.js';
import { postmortemDraft } from './postmortem.js';
import type { Responders, Unresolved } from './responders.js';
import { type Room, type RoomStore, roomConversation } from './room-store.js';
import { summaryCard } from './summary-card.js';

/** DingTalk's limit on a group's title. */
const TITLE_MAX = 30;
/** Members per `scenegroup/member/add` call. */
const ADD_BATCH = 100;
/** An 'opening' row older than this, and not in progress here, is resumed by the sweep. */
const RESUME_AFTER_MS = 10_000;
/** Changes that are someone's status update (a reminder waits for the next one). */
const UPDATE_KINDS = new Set(['note', 'acknowledged', 'unacknowledged', 'resolved', 'snoozed']);

export interface WarRoomsDeps {
  ctx: PluginContext<WarroomConfig>;
  store: RoomStore;
  responders: Responders;
  actions: { ack: string; resolve: string; close: string };
  time: (ms: number) => string;
  now: () => number;
}

/**
 * War rooms: a DingTalk scene group per incident, opened once (the creation request carries
 * a uuid derived from the incident, so retries, double clicks and restarts make one group),
 * kept in step with the incident (members, summary card, status reminders) and closed with
 * a postmortem draft. Work on one incident's room is done one step at a time.
 */
export class WarRooms {
  private readonly opening = new Map<number, Promise<OpenResult>>();
  private readonly lanes = new Map<number, Promise<unknown>>();

  private readonly ctx: WarRoomsDeps['ctx'];
  private readonly store: WarRoomsDeps['store'];
  private readonly responders: WarRoomsDeps['responders'];
  private readonly actions: WarRoomsDeps['actions'];
  private readonly time: WarRoomsDeps['time'];
  private readonly now: WarRoomsDeps['now'];

  constructor(deps: WarRoomsDeps) {
    this.ctx = deps.ctx;
    this.store = deps.store;
    this.responders = deps.responders;
    this.actions = deps.actions;
    this.time = deps.time;
    this.now = deps.now;
  }

  private get config(): WarroomConfig {
    return this.ctx.config;
  }

  incidents(): IncidentsApi {
    const api = this.ctx.plugins.use('alerts.incidents');
    if (!api) throw new UserError('warroom.noAlerts');
    return api;
  }

  private client() {
    const api = this.ctx.dingtalk;
    if (!api) throw new UserError('warroom.noDingTalk');
    return api;
  }

  /** The robot that speaks in rooms: the template's robot when configured. */
  robotCode(): string {
    return this.config.robotCode ?? this.client().robotCode;
  }

  private name = (userId: string): string => this.ctx.people.find(userId)?.name ?? userId;

  private t = (key: string, vars?: Record<string, unknown>) => this.ctx.t(key, vars);

  /** Runs `fn` after whatever this incident's room is doing. */
  private lane<T>(incidentId: number, fn: () => Promise<T>): Promise<T> {
    const run = (this.lanes.get(incidentId) ?? Promise.resolve()).then(fn);
    const tail = run.catch(() => undefined);
    this.lanes.set(incidentId, tail);
    void tail.then(() => {
      if (this.lanes.get(incidentId) === tail) this.lanes.delete(incidentId);
    });
    return run;
  }

  // --- opening

  /**
   * Whoever changes a room must be allowed to respond to its incident (`plugins.alerts.responders`
   * or one of the people it was sent to), as for `ack`: checked here, on every path (commands,
   * buttons, another plugin), and refused with the reason said and audited by the alerts plugin.
   */
  private async mayChange(incidentId: number, caller: Caller): Promise<IncidentActor> {
    await this.incidents().checkResponder(incidentId, caller);
    return { userId: caller.userId, nick: caller.nick };
  }

  /** Opens the incident's room, or answers the one it has; only a responder may. */
  async open(incidentId: number, caller: Caller): Promise<OpenResult> {
    return this.openAs(incidentId, await this.mayChange(incidentId, caller));
  }

  private openAs(incidentId: number, by: IncidentActor): Promise<OpenResult> {
    const inFlight = this.opening.get(incidentId);
    if (inFlight) return inFlight.then((r) => ({ ...r, created: false }));
    const run = this.lane(incidentId, () => this.openNow(incidentId, by)).finally(() =>
      this.opening.delete(incidentId),
    );
    this.opening.set(incidentId, run);
    return run;
  }

  private async openNow(incidentId: number, by: IncidentActor): Promise<OpenResult> {
    const incidents = this.incidents();
    const view = await incidents.get(incidentId);
    if (!view) throw new UserError('warroom.noIncident', { id: incidentId });
    let room = await this.store.get(incidentId);
    if (room && room.status !== 'opening') return { room, created: false, notes: [] };
    let begun = false;
    if (!room) {
      if (view.status === 'resolved') throw new UserError('warroom.resolvedNoRoom', { id: incidentId });
      begun = await this.store.begin({
        incidentId,
        // Stable for this incident (its creation time tells it from an incident with the same
        // number in another database), so DingTalk answers every retry with the same group.
        uuid: createHash('sha256')
          .update(`dingops-warroom:${this.client().robotCode}:${incidentId}:${view.createdAt}`)
          .digest('hex')
          .slice(0, 32),
        title: roomTitle(this.t('roomTitle', { id: incidentId, title: view.title })),
        openedBy: by.userId,
        openedByNick: by.nick,
        createdAt: this.now(),
      });
      room = present(await this.store.get(incidentId), `war room of incident ${incidentId}`);
    }
    if (!begun) {
      // Another replica is opening it (the same click on two replicas, or a double click):
      // its room is this one. One opening that stalls (its replica died) is resumed here.
      const opened = await this.awaitOpening(incidentId, room.createdAt);
      if (opened) return { room: opened, created: false, notes: [] };
    }
    try {
      return await this.create(room, view, incidents);
    } catch (err) {
      // A failed opening is given up, so a retry starts at once (its uuid makes DingTalk
      // answer with the group a half-done attempt created, if any).
      await this.store.abandon(incidentId).catch(() => undefined);
      const explained = explainError(err, this.errorContext(incidentId));
      this.ctx.log.warn(
        { incident: incidentId, reason: this.explanation(explained, 'en'), err },
        'warroom: could not open the war room',
      );
      throw explained;
    }
  }

  /** Waits for a room another replica is opening; undefined when it stalled (resume it). */
  private async awaitOpening(incidentId: number, createdAt: number): Promise<Room | undefined> {
    while (this.now() - createdAt < RESUME_AFTER_MS) {
      await new Promise((r) => setTimeout(r, 200));
      const room = await this.store.get(incidentId);
      if (room && room.status !== 'opening') return room;
    }
    return undefined;
  }

  private async create(room: Room, view: IncidentView, incidents: IncidentsApi): Promise<OpenResult> {
    const client = this.client();
    const { config } = this;
    const notes: string[] = [];
    const people = await this.responders.resolve([...config.oncall, ...view.responders]);
    const owner = (await this.configuredOwner()) ?? room.openedBy;
    const created = await client.createSceneGroup({
      title: room.title,
      templateId: config.templateId,
      ownerUserId: owner,
      userIds: people.userIds.filter((u) => u !== owner),
      uuid: room.uuid,
    });
    const cid = created.result.open_conversation_id;
    const members = [...new Set([owner, ...people.userIds])];
    let url: string | undefined;
    try {
      const info = await client.getSceneGroup(cid);
      url = typeof info.result.group_url === 'string' ? info.result.group_url : undefined;
    } catch (err) {
      // The room works without its link; the person is told what the link needs.
      const e = explainError(err, this.errorContext(room.incidentId));
      const text = this.explanation(e);
      if (text) notes.push(text);
      this.ctx.log.warn({ err, incident: room.incidentId }, 'warroom: no link for the room');
    }
    const now = this.now();
    await this.store.update(room.incidentId, {
      status: 'open',
      openConversationId: cid,
      url,
      members,
      unresolved: people.unresolved.map((u) => u.ref),
      openedAt: now,
    });
    // Said directly, not queued: a robot that is not in the room is found while someone waits.
    await client.sendGroupMessage(
      cid,
      'sampleText',
      { content: this.t('welcome', { id: room.incidentId, title: view.title }) },
      this.robotCode(),
    );
    const opened = present(await this.store.get(room.incidentId), `war room of incident ${room.incidentId}`);
    const receipt = await this.ctx.send.toGroup(cid, this.summary(view, opened), {
      robotCode: this.robotCode(),
    });
    await this.store.update(room.incidentId, { summaryCardId: receipt.cardId });
    if (people.unresolved.length) {
      const notice = this.t('notInvited', { list: this.describe(people.unresolved) });
      notes.push(notice);
      await this.say(cid, notice);
    }
    await incidents.linkRoom(
      room.incidentId,
      { openConversationId: cid, title: room.title, url },
      { userId: room.openedBy, nick: room.openedByNick },
    );
    this.ctx.log.info({ incident: room.incidentId, members: members.length }, 'warroom: room opened');
    return {
      room: present(await this.store.get(room.incidentId), `war room of incident ${room.incidentId}`),
      created: true,
      notes,
    };
  }

  /** The words of an explained error (what the person is told), in the bot's or the given locale. */
  private explanation(e: unknown, locale?: 'en'): string | undefined {
    return e instanceof UserError ? this.ctx.t(e.key, e.vars, locale) : undefined;
  }

  private errorContext(incidentId: number) {
    return { incidentId, templateId: this.config.templateId, robotCode: this.robotCode() };
  }

  /** "Bob (no mobile…); 13800000009 (nobody…)": who could not be brought in, and why. */
  describe(list: Unresolved[]): string {
    return list.map((u) => this.t(`unresolved.${u.reason}`, u)).join('; ');
  }

  summary(view: IncidentView, room: Room) {
    return summaryCard(view, room, {
      t: this.t,
      actions: this.actions,
      name: this.name,
      time: this.time,
      now: this.now,
    });
  }

  private say(cid: string, content: string | { markdown: string; title: string }) {
    return this.ctx.send.toGroup(cid, content, { robotCode: this.robotCode() });
  }

  // --- living in it

  /** The room of an incident, or of this conversation when no incident is named. */
  async roomFor(incidentId: number | undefined, conversationId: string, command: string): Promise<Room> {
    if (incidentId === undefined) {
      const room = await this.store.byConversation(conversationId);
      if (!room) throw new UserError('warroom.notARoom', { command });
      return room;
    }
    const room = await this.store.get(incidentId);
    if (!room || room.status === 'opening') throw new UserError('warroom.noRoom', { id: incidentId });
    return room;
  }

  /** Brings people in (a responder may); those who cannot be found are named with the reason. */
  async invite(
    room: Room,
    refs: string[],
    caller: Caller,
  ): Promise<{ added: string[]; unresolved: Unresolved[] }> {
    await this.mayChange(room.incidentId, caller);
    return this.lane(room.incidentId, async () => {
      const fresh = present(await this.store.get(room.incidentId), `war room of incident ${room.incidentId}`);
      if (fresh.status === 'closed') throw new UserError('warroom.alreadyClosed', { id: room.incidentId });
      try {
        const people = await this.responders.resolve(refs);
        const added = await this.addMembers(fresh, people.userIds);
        return { added, unresolved: people.unresolved };
      } catch (err) {
        throw explainError(err, this.errorContext(room.incidentId));
      }
    });
  }

  private async addMembers(room: Room, userIds: string[]): Promise<string[]> {
    const add = userIds.filter((u) => !room.members.includes(u));
    for (let i = 0; i < add.length; i += ADD_BATCH)
      await this.client().addSceneGroupMembers(roomConversation(room), add.slice(i, i + ADD_BATCH));
    if (add.length) {
      await this.store.update(room.incidentId, { members: [...room.members, ...add] });
      await this.refreshCard(room.incidentId);
    }
    return add;
  }

  /** The member count DingTalk reports (`qyapi_chat_base_read`), or what keeps it from answering. */
  async memberCount(room: Room): Promise<number | string | undefined> {
    if (!room.openConversationId) return undefined;
    try {
      return (await this.client().groupBaseInfo(room.openConversationId)).result.memberCount;
    } catch (err) {
      const e = explainError(err, this.errorContext(room.incidentId));
      return this.explanation(e);
    }
  }

  /** A note on the incident's timeline (and so its postmortem): a responder's. */
  async note(room: Room, caller: Caller, text: string): Promise<void> {
    const by = await this.mayChange(room.incidentId, caller);
    await this.incidents().note(room.incidentId, by, text);
    await this.store.update(room.incidentId, { lastUpdateAt: this.now(), lastUpdateBy: by.userId });
  }

  /** Follows an incident change: status updates, new responders, the summary card, closing on resolve. */
  onChange(change: IncidentChange): Promise<void> {
    const id = change.incident.id;
    return this.lane(id, async () => {
      const room = await this.store.get(id);
      if (room?.status !== 'open') return;
      const view = (await this.incidents().get(id)) ?? change.incident;
      if (change.actor && change.actor !== 'dingops' && UPDATE_KINDS.has(change.kind))
        await this.store.update(id, { lastUpdateAt: this.now(), lastUpdateBy: change.actor });
      await this.followResponders(room, view);
      if (view.status === 'resolved' && this.config.closeOnResolve)
        await this.closeNow(id, { userId: change.actor ?? 'dingops', nick: change.actor ?? 'dingops' });
      else await this.refreshCard(id, view);
    });
  }

  private async followResponders(room: Room, view: IncidentView): Promise<void> {
    try {
      const people = await this.responders.resolve([...this.config.oncall, ...view.responders]);
      await this.addMembers(room, people.userIds);
      const fresh = people.unresolved.filter((u) => !room.unresolved.includes(u.ref));
      if (fresh.length) {
        await this.store.update(room.incidentId, {
          unresolved: [...room.unresolved, ...fresh.map((u) => u.ref)],
        });
        await this.say(roomConversation(room), this.t('notInvited', { list: this.describe(fresh) }));
      }
    } catch (err) {
      const e = explainError(err, this.errorContext(room.incidentId));
      this.ctx.log.warn({ err, incident: room.incidentId }, 'warroom: could not bring responders in');
      const text = this.explanation(e);
      if (text) await this.say(roomConversation(room), text);
    }
  }

  private async refreshCard(incidentId: number, known?: IncidentView): Promise<void> {
    const room = await this.store.get(incidentId);
    if (!room?.summaryCardId) return;
    const view = known ?? (await this.incidents().get(incidentId));
    if (!view) return;
    await this.ctx.send
      .updateCard(room.summaryCardId, this.summary(view, room))
      .catch((err) => this.ctx.log.warn({ err, incident: incidentId }, 'warroom: summary card not updated'));
  }

  // --- closing

  /** Closes the room with its postmortem draft; a responder may (resolving closes it by itself). */
  async close(incidentId: number, caller: Caller): Promise<Room> {
    const by = await this.mayChange(incidentId, caller);
    return this.lane(incidentId, () => this.closeNow(incidentId, by));
  }

  private async closeNow(incidentId: number, by: IncidentActor): Promise<Room> {
    const room = await this.store.get(incidentId);
    if (!room || room.status === 'opening') throw new UserError('warroom.noRoom', { id: incidentId });
    if (room.status === 'closed') throw new UserError('warroom.alreadyClosed', { id: incidentId });
    const incidents = this.incidents();
    const view = present(await incidents.get(incidentId), `incident ${incidentId}`);
    const draft = await this.draft(room, view);
    await this.store.update(incidentId, { status: 'closed', closedAt: this.now(), postmortem: draft });
    const closed = present(await this.store.get(incidentId), `war room of incident ${incidentId}`);
    const cid = roomConversation(room);
    await this.say(cid, this.t('closing', { id: incidentId }));
    await this.say(cid, {
      markdown: draft,
      title: this.t('pm.title', { id: incidentId, title: view.title }),
    });
    await this.refreshCard(incidentId, view);
    this.ctx.log.info({ incident: incidentId, by: by.userId }, 'warroom: room closed');
    return closed;
  }

  async draft(room: Room, view: IncidentView): Promise<string> {
    return postmortemDraft(view, await this.incidents().timeline(view.id), room.members, {
      t: this.t,
      name: this.name,
      time: this.time,
      now: this.now,
    });
  }

  /** The person `warroom.owner` names (a name from `people`, a userId or a mobile), when set. */
  private async configuredOwner(): Promise<string | undefined> {
    if (!this.config.owner) return undefined;
    const r = await this.responders.resolve([this.config.owner]);
    const [userId] = r.userIds;
    if (!userId) throw new UserError('warroom.ownerUnknown', { owner: this.config.owner });
    return userId;
  }

  // --- the periodic sweep

  /** Resumes rooms whose creation was cut short, and asks quiet rooms for a status update. */
  async sweep(): Promise<void> {
    const now = this.now();
    for (const room of await this.store.list('opening')) {
      if (this.opening.has(room.incidentId) || now - room.createdAt < RESUME_AFTER_MS) continue;
      // Its opener was a responder when they asked: the creation is finished in their name.
      await this.openAs(room.incidentId, { userId: room.openedBy, nick: room.openedByNick }).catch((err) =>
        this.ctx.log.warn({ err, incident: room.incidentId }, 'warroom: resuming a room failed; will retry'),
      );
    }
    const after = this.config.statusReminder.after;
    if (after <= 0) return;
    for (const room of await this.store.list('open')) {
      const since = room.lastUpdateAt ?? room.openedAt ?? room.createdAt;
      const last = Math.max(since, room.lastReminderAt ?? 0);
      if (now - last < after) continue;
      if (!(await this.store.claimReminder(room, now))) continue;
      await this.say(roomConversation(room), this.t('reminder', { duration: formatDuration(now - since) }));
    }
  }
}

export interface OpenResult {
  room: Room;
  /** False when the room existed already. */
  created: boolean;
  /** What the person who asked should also know (people not invited, a missing link). */
  notes: string[];
}

/** DingTalk titles are at most 30 characters (code points, not bytes). */
export function roomTitle(text: string): string {
  const chars = [...text];
  return chars.length <= TITLE_MAX ? text : `${chars.slice(0, TITLE_MAX - 1).join('')}…`;
}
