import { sql } from 'kysely';
import type { Database } from '../storage/database.js';

/** A title named in the config, bound by an admin to one group. */
export interface GroupBinding {
  title: string;
  openConversationId: string;
  /** The admin who vouched for it (bound it in that group). */
  boundBy: string;
  boundAt: number;
}

/**
 * Which group a title in the config means. A group's title is a name its members can change,
 * so it is no identity: a title means the one openConversationId an admin bound it to
 * (`groups bind <title>`, said in that group), through every rename of that group, and never
 * another group that takes the title. Kept in the store (`group_binding`) so restarts and
 * replicas agree; each process holds a copy, read again every few seconds (`refresh`) for the
 * bindings another replica made.
 */
export class GroupBindings {
  private readonly byTitle = new Map<string, GroupBinding>();

  constructor(
    private readonly store: Database,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Reads the bindings from the store (at start, and then to see other replicas'). */
  async refresh(): Promise<void> {
    const rows = await this.store.db.selectFrom('group_binding').selectAll().execute();
    this.byTitle.clear();
    for (const r of rows)
      this.byTitle.set(r.title, {
        title: r.title,
        openConversationId: r.open_conversation_id,
        boundBy: r.bound_by,
        boundAt: Number(r.bound_at),
      });
  }

  get(title: string): GroupBinding | undefined {
    const b = this.byTitle.get(title);
    return b && { ...b };
  }

  list(): GroupBinding[] {
    return [...this.byTitle.values()].map((b) => ({ ...b })).sort((a, b) => a.title.localeCompare(b.title));
  }

  /** The titles bound to a group (several may name the same one). */
  titlesOf(openConversationId: string): string[] {
    return this.list()
      .filter((b) => b.openConversationId === openConversationId)
      .map((b) => b.title);
  }

  /** Binds the title to the group; returns the binding it replaced, if it named another group. */
  async bind(title: string, openConversationId: string, by: string): Promise<GroupBinding | undefined> {
    const before = this.get(title);
    const now = this.clock();
    await this.store.write(
      sql`insert into group_binding (title, open_conversation_id, bound_by, bound_at)
          values (${title}, ${openConversationId}, ${by}, ${now})
          on conflict (title) do update set open_conversation_id = excluded.open_conversation_id,
            bound_by = excluded.bound_by, bound_at = excluded.bound_at`.compile(this.store.db),
    );
    this.byTitle.set(title, { title, openConversationId, boundBy: by, boundAt: now });
    return before && before.openConversationId !== openConversationId ? before : undefined;
  }

  /** Removes a binding; false when the title was not bound. */
  async unbind(title: string): Promise<boolean> {
    const r = await this.store.write(
      sql`delete from group_binding where title = ${title}`.compile(this.store.db),
    );
    this.byTitle.delete(title);
    return r.numAffectedRows > 0;
  }
}
