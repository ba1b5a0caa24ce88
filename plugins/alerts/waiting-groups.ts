import type { KeyValueStore } from 'dingops';

/** Incidents kept per group at most (a storm to an unknown group must not grow without bound). */
const MAX_WAITING = 1000;

/**
 * Notifications for a group the bot does not know yet (a title in the routes, on a fresh
 * install, before anyone installed the app there or @mentioned the bot): the incidents wait
 * in the store, per group, and are sent when the group becomes known. The admins are told
 * once per group, so they know to add the bot there.
 */
export class WaitingGroups {
  constructor(
    private readonly kv: KeyValueStore,
    /** Tells the admins (once per group) that alerts wait for it. */
    private readonly tellAdmins: (group: string) => Promise<void>,
  ) {}

  /** Records that the incident waits for the group; true when the admins were told just now. */
  async wait(group: string, incident: number): Promise<boolean> {
    const ids = (await this.kv.get<number[]>(key(group))) ?? [];
    if (!ids.includes(incident)) await this.kv.set(key(group), [...ids, incident].slice(-MAX_WAITING));
    if (await this.kv.get<boolean>(toldKey(group))) return false;
    await this.kv.set(toldKey(group), true);
    await this.tellAdmins(group);
    return true;
  }

  /** The incident reached the group after all (a later attempt): it no longer waits. */
  async reached(group: string, incident: number): Promise<void> {
    const ids = await this.kv.get<number[]>(key(group));
    if (ids?.includes(incident))
      await this.kv.set(
        key(group),
        ids.filter((i) => i !== incident),
      );
  }

  /** The group became known: the incidents that waited for it (now removed from the list). */
  async take(group: string): Promise<number[]> {
    const ids = (await this.kv.get<number[]>(key(group))) ?? [];
    if (ids.length) await this.kv.delete(key(group));
    await this.kv.delete(toldKey(group));
    return ids;
  }
}

const key = (group: string) => `waiting-group:${group}`;
const toldKey = (group: string) => `waiting-group-told:${group}`;
