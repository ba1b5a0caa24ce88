import { type Kysely, sql } from 'kysely';
import type { Logger } from 'pino';
import type { EventBus } from '../events/event-bus.js';
import type { DingTalkEvent } from '../messages/inbound.js';
import type { CoreTables } from '../storage/core-tables.js';
import type { Database } from '../storage/database.js';
import { token } from '../util/di-token.js';
import { didYouMean } from '../util/did-you-mean.js';

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
  ) {
    super(message);
    this.name = 'GroupReferenceError';
  }
}

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

  constructor(
    private readonly store: Database,
    private readonly events: EventBus,
    private readonly log: Logger,
    private readonly clock: () => number = Date.now,
  ) {
    this.db = store.db;
    events.on('dingtalk.event', (e) => this.onEvent(e));
  }

  async load(): Promise<void> {
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
   * An openConversationId from an id or a title. A title must match exactly one installed
   * group; an id the registry has not seen yet is accepted when it looks like one (`cid...`),
   * since DingTalk may not have told us about the group yet.
   */
  resolve(ref: string): string {
    const known = this.groups.get(ref);
    if (known?.disbanded)
      throw new GroupReferenceError(
        `group ${known.title ? `'${known.title}' (${ref})` : ref} was disbanded; name another group`,
        ref,
        [],
        [],
        [],
        true,
      );
    if (known) return ref;
    const installed = [...this.groups.values()].filter((g) => g.installed);
    const byTitle = installed.filter((g) => g.title === ref);
    const [only] = byTitle;
    if (only && byTitle.length === 1) return only.openConversationId;
    if (byTitle.length > 1)
      throw new GroupReferenceError(
        `group title '${ref}' matches ${byTitle.length} installed groups (${byTitle.map((g) => g.openConversationId).join(', ')}); use the openConversationId instead`,
        ref,
        byTitle.map((g) => g.openConversationId),
      );
    if (/^cid\S+$/.test(ref)) return ref;
    const close = didYouMean(
      ref,
      installed.map((g) => g.title),
    );
    throw new GroupReferenceError(
      `no installed group titled '${ref}'${close.length ? ` (did you mean ${close.map((c) => `'${c}'`).join(', ')}?)` : ''}; ${
        installed.length
          ? `known groups: ${installed.map((g) => `'${g.title}'`).join(', ')}`
          : 'no group is known yet: install the cool app in the group (or @mention the bot there) first'
      }, or use the openConversationId`,
      ref,
      [],
      close,
      installed.map((g) => g.title),
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
      await this.events.emit('group.renamed', { openConversationId: id, title, operator });
    }
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
