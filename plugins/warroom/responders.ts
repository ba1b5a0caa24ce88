import type { PersonResolution, PluginContext } from 'dingops';

/** Someone who could not be brought into a room, and why. */
export type Unresolved = Exclude<PersonResolution, { userId: string }>;

export interface Resolution {
  userIds: string[];
  unresolved: Unresolved[];
}

/**
 * The people to bring into a room, as DingTalk userIds (through the core's people
 * directory); whoever cannot be found is returned by the name they were given, never
 * skipped silently. API failures (a missing permission) are thrown.
 */
export class Responders {
  constructor(private readonly ctx: PluginContext<unknown>) {}

  async resolve(refs: Iterable<string>): Promise<Resolution> {
    const userIds = new Set<string>();
    const unresolved: Unresolved[] = [];
    for (const ref of new Set(refs)) {
      const r = await this.ctx.people.resolve(ref);
      if ('userId' in r) userIds.add(r.userId);
      else unresolved.push(r);
    }
    return { userIds: [...userIds], unresolved };
  }
}
