import { type Kysely, sql } from 'kysely';
import type { Logger } from 'pino';
import type { EventBus } from '../events/event-bus.js';
import type { DingTalkEvent } from '../messages/inbound.js';
import type { CoreTables } from '../storage/core-tables.js';
import type { Database } from '../storage/database.js';
import { token } from '../util/di-token.js';
import { didYouMean } from '../util/did-you-mean.js';
import { GroupBindings } from './group-bindings.js';

export interface KnownGroup {
  openConversationId: string;
  title: string;
  /** Whether the app (its cool app / robot) is in the group. */
  installed: boolean;
  /** The group was disbanded (`chat_disband`): nothing can reach it any more. */
  disbanded?: boolean;
  /** Last message or event from the group (ms epoch). */
  lastSeenAt: number;
}

/** A group reference in config or code that names no group, or several. */
/** A group reference that resolves to no installed group, or to several; the parts let a caller say it in its language. */
export class GroupReferenceError extends Error {
  constructor(
    message: string,
    readonly ref: string,
    readonly matches: string[] = [],
    readonly suggestions: string[] = [],
    readonly known: string[] = [],
    /** The group was disbanded (`chat_disband`): it names a group that is gone. */
    readonly disbanded = false,
    /** A title no admin has bound to a group yet (`groups bind`). */
    readonly unbound = false,
  ) {
    super(message);
    this.name = 'GroupReferenceError';
  }
}

/** Unbound titles remembered for `groups` and `doctor` (titles asked for, not bound). */
const MAX_UNBOUND_TITLES = 200;

/** `dingtalk_group.installed`: 1 installed, 0 not, 2 disbanded (no column of its own needed). */
const INSTALLED = 1;
const DISBANDED = 2;

/** The events that change what the registry knows (docs/dingtalk-protocol.md §4.10). */
const GROUP_EVENTS = new Set([
  'im_cool_app_install',
  'im_cool_app_uninstall',
  'chat_update_title',
  'chat_disband',
]);

const text = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);

/**
 * The fields of a group event, from the event subscription's camelCase names or the legacy
 * `register_call_back` capitalised ones (`OpenConversationId`, `Title`, `Operator`). A legacy
 * event that names the group only by `ChatId` (the old chat id, not the openConversationId
 * every other API takes) is refused, with the reason.
 */
function groupEventFields(
  d: Record<string, unknown>,
): { id: string; operator?: string; title?: string } | { refused: string } {
  const id = text(d.openConversationId) ?? text(d.OpenConversationId);
  if (!id)
    return {
      refused:
        text(d.ChatId) || text(d.chatId)
          ? 'it names the group by the legacy ChatId, not by openConversationId'
          : 'it has no openConversationId',
    };
  const title = typeof d.title === 'string' ? d.title : typeof d.Title === 'string' ? d.Title : undefined;
  return { id, operator: text(d.operator) ?? text(d.Operator), title };
}

/** A message from a known group refreshes `last_seen_at` in the store at most this often. */
const SEEN_WRITE_INTERVAL_MS = 10 * 60_000;

/**
 * The groups the bot lives in: kept from DingTalk's `im_cool_app_install`,
 * `im_cool_app_uninstall` and `chat_update_title` events and from the groups messages
 * arrive from. Held in memory (read once at start) and written through to the store.
 */
export class GroupRegistry {
  private readonly groups = new Map<string, KnownGroup>();
  private readonly persistedSeenAt = new Map<string, number>();
  /** Event shapes already logged as unreadable (logged once each, not per push). */
  private readonly refusedShapes = new Set<string>();
  private readonly db: Kysely<CoreTables>;
  /** Fetches a group's title from DingTalk (set when the OpenAPI is available). */
  titleLookup: ((openConversationId: string) => Promise<string | undefined>) | undefined;
  /** Which group each title of the config means (bound by an admin). */
  readonly bindings: GroupBindings;
  /** Titles something asked for that no admin has bound yet (`groups` and `doctor` list them). */
  private readonly unboundAsked = new Set<string>();
  /** Groups already reported for carrying a bound title (`title\ngroup`). */
  private readonly taken = new Set<string>();

  constructor(
    private readonly store: Database,
    private readonly events: EventBus,
    private readonly log: Logger,
    private readonly clock: () => number = Date.now,
  ) {
    this.db = store.db;
    this.bindings = new GroupBindings(store, clock);
    events.on('dingtalk.event', (e) => this.onEvent(e));
  }

  /** Titles asked for and not bound, oldest first. */
  unboundTitles(): string[] {
    return [...this.unboundAsked].filter((t) => !this.bindings.get(t));
  }

  /**
   * Binds a title to a group, as an admin said in that group. The title then means this group
   * only, whatever it or any other group is called later.
   */
  async bind(title: string, openConversationId: string, by: string) {
    const replaced = await this.bindings.bind(title, openConversationId, by);
    this.unboundAsked.delete(title);
    // Groups that carry the title already are told of now, as one renamed later would be.
    for (const g of this.groups.values()) if (g.title === title) this.checkTitle(g.openConversationId, title);
    this.log.info(
      { title, openConversationId, by, replaced: replaced?.openConversationId },
      'group title bound',
    );
    await this.events.emit('group.bound', { title, openConversationId, by });
    return replaced;
  }

  async load(): Promise<void> {
    await this.bindings.refresh();
    const rows = await this.db.selectFrom('dingtalk_group').selectAll().execute();
    for (const r of rows) {
      this.groups.set(r.open_conversation_id, {
        openConversationId: r.open_conversation_id,
        title: r.title,
        installed: Number(r.installed) === INSTALLED,
        ...(Number(r.installed) === DISBANDED ? { disbanded: true } : {}),
        lastSeenAt: Number(r.last_seen_at),
      });
      this.persistedSeenAt.set(r.open_conversation_id, Number(r.last_seen_at));
    }
  }

  list(): KnownGroup[] {
    return [...this.groups.values()]
      .map((g) => ({ ...g }))
      .sort((a, b) => Number(b.installed) - Number(a.installed) || a.title.localeCompare(b.title));
  }

  get(openConversationId: string): KnownGroup | undefined {
    const g = this.groups.get(openConversationId);
    return g && { ...g };
  }

  /**
   * An openConversationId from an id or a title. An id is itself (one the registry has not
   * seen yet is accepted when it looks like one, `cid...`: DingTalk may not have told us about
   * the group yet). A title is the group an admin bound it to (`groups bind`), never merely a
   * group that carries it now: members can rename their group to any title.
   */
  resolve(ref: string): string {
    const id =
      this.groups.has(ref) || /^cid\S+$/.test(ref) ? ref : this.bindings.get(ref)?.openConversationId;
    if (id) {
      const known = this.groups.get(id);
      if (known?.disbanded)
        throw new GroupReferenceError(
          `group ${known.title ? `'${known.title}' (${id})` : id} was disbanded; name another group`,
          ref,
          [],
          [],
          [],
          true,
        );
      return id;
    }
    // Bounded: a plugin may resolve what people type; the config's titles come first anyway.
    if (this.unboundAsked.size < MAX_UNBOUND_TITLES) this.unboundAsked.add(ref);
    const installed = [...this.groups.values()].filter((g) => g.installed);
    const carrying = installed.filter((g) => g.title === ref).map((g) => g.openConversationId);
    const close = carrying.length
      ? []
      : didYouMean(
          ref,
          this.bindings.list().map((b) => b.title),
        );
    throw new GroupReferenceError(
      `the group title '${ref}' is not bound to a group: an admin says \`groups bind ${ref}\` in that group (or the config names its openConversationId)${
        carrying.length ? `; titled so now: ${carrying.join(', ')}` : ''
      }${close.length ? ` (did you mean ${close.map((c) => `'${c}'`).join(', ')}?)` : ''}`,
      ref,
      carrying,
      close,
      installed.map((g) => g.title),
      false,
      true,
    );
  }

  /** A message arrived from a group: the bot is there. Cheap when nothing changed (the hot path). */
  seen(openConversationId: string, title: string | undefined): void {
    const now = this.clock();
    const g = this.groups.get(openConversationId);
    if (g?.installed && (title === undefined || title === g.title)) {
      g.lastSeenAt = now;
      if (now - (this.persistedSeenAt.get(openConversationId) ?? 0) < SEEN_WRITE_INTERVAL_MS) return;
    }
    const wasInstalled = g?.installed;
    const next = {
      openConversationId,
      title: title ?? g?.title ?? '',
      installed: true,
      lastSeenAt: now,
    };
    this.put(next);
    this.checkTitle(openConversationId, next.title);
    if (g && title !== undefined && title !== g.title)
      void this.events.emit('group.renamed', { openConversationId, title });
    if (!wasInstalled) void this.events.emit('group.installed', { openConversationId, title: next.title });
  }

  private async onEvent(e: DingTalkEvent): Promise<void> {
    if (!GROUP_EVENTS.has(e.type)) return;
    const fields = groupEventFields(e.data);
    if ('refused' in fields) {
      // Never half-applied: without the openConversationId the event names no group we know.
      const key = `${e.type}:${fields.refused}`;
      if (!this.refusedShapes.has(key)) {
        this.refusedShapes.add(key);
        this.log.warn(
          { eventType: e.type, fields: Object.keys(e.data).slice(0, 20) },
          `a ${e.type} event was ignored: ${fields.refused} (subscribe to group events in the developer console's event subscription, which sends openConversationId)`,
        );
      }
      return;
    }
    const { id, operator, title: newTitle } = fields;
    const now = this.clock();
    const g = this.groups.get(id);
    if (e.type === 'chat_disband') {
      await this.put({
        openConversationId: id,
        title: g?.title ?? '',
        installed: false,
        disbanded: true,
        lastSeenAt: now,
      });
      this.log.info({ openConversationId: id, title: g?.title, operator }, 'a group was disbanded');
      await this.events.emit('group.uninstalled', { openConversationId: id, operator });
      return;
    }
    if (e.type === 'im_cool_app_install') {
      const title = g?.title || (await this.lookupTitle(id)) || '';
      await this.put({ openConversationId: id, title, installed: true, lastSeenAt: now });
      this.log.info({ openConversationId: id, title, operator }, 'installed in a group');
      await this.events.emit('group.installed', { openConversationId: id, title, operator });
    } else if (e.type === 'im_cool_app_uninstall') {
      await this.put({ openConversationId: id, title: g?.title ?? '', installed: false, lastSeenAt: now });
      this.log.info({ openConversationId: id, title: g?.title, operator }, 'uninstalled from a group');
      await this.events.emit('group.uninstalled', { openConversationId: id, operator });
    } else if (e.type === 'chat_update_title' && newTitle !== undefined) {
      const title = newTitle;
      await this.put({ openConversationId: id, title, installed: g?.installed ?? true, lastSeenAt: now });
      this.checkTitle(id, title);
      await this.events.emit('group.renamed', { openConversationId: id, title, operator });
    }
  }

  /**
   * A group that carries a title bound to another group (renamed to it, or made with it) gets
   * nothing meant for that title; the admins are told, once per group and title.
   */
  private checkTitle(openConversationId: string, title: string): void {
    const bound = this.bindings.get(title);
    if (!bound || bound.openConversationId === openConversationId) return;
    const key = `${title}\n${openConversationId}`;
    if (this.taken.has(key)) return;
    this.taken.add(key);
    this.log.warn(
      { title, openConversationId, boundTo: bound.openConversationId },
      'a group carries a title bound to another group; it receives nothing meant for that title',
    );
    void this.events.emit('group.titleTaken', {
      title,
      openConversationId,
      boundTo: bound.openConversationId,
    });
  }

  private async lookupTitle(id: string): Promise<string | undefined> {
    try {
      return await this.titleLookup?.(id);
    } catch (err) {
      this.log.warn(
        { err, openConversationId: id },
        'could not read the title of a group the app was installed in',
      );
      return undefined;
    }
  }

  private async put(g: KnownGroup): Promise<void> {
    this.groups.set(g.openConversationId, { ...g });
    this.persistedSeenAt.set(g.openConversationId, g.lastSeenAt);
    const now = this.clock();
    await this.store
      .write(
        sql`insert into dingtalk_group (open_conversation_id, title, installed, last_seen_at, updated_at)
            values (${g.openConversationId}, ${g.title}, ${g.disbanded ? DISBANDED : g.installed ? INSTALLED : 0}, ${g.lastSeenAt}, ${now})
            on conflict (open_conversation_id) do update set title = excluded.title,
              installed = excluded.installed, last_seen_at = excluded.last_seen_at, updated_at = excluded.updated_at`.compile(
          this.db,
        ),
      )
      .catch((err) =>
        this.log.error({ err, openConversationId: g.openConversationId }, 'could not store a group'),
      );
  }
}

/** The DI token of the GroupRegistry. */
export const GroupsToken = token<GroupRegistry>('Groups');
