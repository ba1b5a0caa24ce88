import { type PluginContext, TOKENS } from '../../core/index.js';

/** Why a person could not be brought into a room. */
export type Unresolved =
  | { ref: string; reason: 'noContact' }
  | { ref: string; reason: 'notInOrg'; mobile: string };

export interface Resolution {
  userIds: string[];
  unresolved: Unresolved[];
}

const MOBILE = /^\+?[\d -]{5,20}$/;
const CACHE_MS = 7 * 86_400_000;

/**
 * People as configured (names from `people`, userIds, mobiles) to DingTalk userIds. A
 * mobile is looked up once through the API (`qyapi_get_member_by_mobile`) and cached for a
 * week; whoever cannot be found is returned by the name they were given, never skipped
 * silently. API failures other than "not found" (a missing permission) are thrown.
 */
export class Responders {
  constructor(private readonly ctx: PluginContext<unknown>) {}

  async resolve(refs: Iterable<string>): Promise<Resolution> {
    const userIds = new Set<string>();
    const unresolved: Unresolved[] = [];
    for (const ref of new Set(refs)) {
      const r = await this.one(ref);
      if (typeof r === 'string') userIds.add(r);
      else unresolved.push(r);
    }
    return { userIds: [...userIds], unresolved };
  }

  private async one(ref: string): Promise<string | Unresolved> {
    const person = this.ctx.people.find(ref);
    if (person?.userId) return person.userId;
    const mobile = person?.mobile ?? (MOBILE.test(ref) ? ref : undefined);
    if (!mobile) return person ? { ref: person.name, reason: 'noContact' } : ref;
    const name = person?.name ?? ref;
    const digits = mobile.replace(/[\s-]/g, '');
    const key = `mobile:${digits}`;
    const cached = await this.ctx.store.kv.get<string>(key);
    if (cached) return cached;
    const userId = await this.ctx.services.resolve(TOKENS.OpenApi).userIdByMobile(digits);
    if (!userId) return { ref: name, reason: 'notInOrg', mobile: digits };
    await this.ctx.store.kv.set(key, userId, { ttlMs: CACHE_MS });
    return userId;
  }
}
