import type { Person } from '../config/core-schema.js';
import type { OpenApiClient } from '../deliver/openapi/openapi-client.js';
import type { KeyValueStore } from '../storage/kv-store.js';
import { token } from '../util/di-token.js';

/** Who a reference names: a DingTalk userId, or why nobody. */
export type PersonResolution =
  | { userId: string }
  | { ref: string; reason: 'noContact' }
  | { ref: string; reason: 'notInOrg'; mobile: string };

const MOBILE = /^\+?[\d -]{5,20}$/;
const CACHE_MS = 7 * 86_400_000;
const digits = (m: string) => m.replace(/[\s-]/g, '');

/**
 * People as configured (`people` names, userIds, mobiles) to DingTalk userIds. A mobile is
 * looked up once through the API (`qyapi_get_member_by_mobile`) and cached for a week; a
 * reference that names nobody comes back with the reason, by the name it was given. Other
 * API failures (a missing permission, the network) are thrown to the caller.
 */
export class PeopleDirectory {
  constructor(
    private readonly people: readonly Person[],
    private readonly kv: KeyValueStore,
    private readonly api: () => OpenApiClient | undefined,
  ) {}

  find(ref: string): Person | undefined {
    const r = ref.trim().toLowerCase();
    return this.people.find(
      (p) => p.name.toLowerCase() === r || p.userId === ref || (p.mobile && digits(p.mobile) === digits(ref)),
    );
  }

  async resolve(ref: string): Promise<PersonResolution> {
    const person = this.find(ref);
    if (person?.userId) return { userId: person.userId };
    const mobile = person?.mobile ?? (MOBILE.test(ref) ? ref : undefined);
    // Neither a known person nor a number: taken as a userId.
    if (!mobile) return person ? { ref: person.name, reason: 'noContact' } : { userId: ref };
    const key = `mobile:${digits(mobile)}`;
    const cached = await this.kv.get<string>(key);
    if (cached) return { userId: cached };
    const api = this.api();
    if (!api) return { ref: person?.name ?? ref, reason: 'notInOrg', mobile: digits(mobile) };
    const userId = await api.userIdByMobile(digits(mobile));
    if (!userId) return { ref: person?.name ?? ref, reason: 'notInOrg', mobile: digits(mobile) };
    await this.kv.set(key, userId, { ttlMs: CACHE_MS });
    return { userId };
  }
}

/** The DI token of the PeopleDirectory. */
export const PeopleToken = token<PeopleDirectory>('People');
