import { createHash } from 'node:crypto';
import { token } from '../util/di-token.js';
import type { Database } from './database.js';

export type ReplayVerdict = 'first' | 'same' | 'reused';

/**
 * Signatures accepted once. DingTalk's robot `sign` and the card `x-ddpaas-signature` sign
 * the timestamp, not the body, and a Grafana signature can be captured as well: whoever saw
 * one request could send another body with the same headers while the timestamp is fresh.
 * Each signature is recorded with a fingerprint of the body it came with, in the bot's
 * database (so every replica sharing the store agrees) until its window has passed:
 * - `first`: never seen: go on;
 * - `same`: seen with this very body: a retry of the same request (its own duplicate
 *   checks answer it);
 * - `reused`: seen with another body: a forgery, refuse it.
 */
export class ReplayGuard {
  private nextPrune = 0;

  constructor(
    private readonly store: Database,
    private readonly now: () => number = Date.now,
  ) {}

  async check(scope: string, signature: string, body: string, ttlMs: number): Promise<ReplayVerdict> {
    const key = digest(`${scope}\n${signature}`);
    const fingerprint = digest(body);
    const now = this.now();
    const { db } = this.store;
    const inserted = await this.store.write(
      db
        .insertInto('replay_guard')
        .values({ key, fingerprint, expires_at: now + ttlMs })
        .onConflict((oc) => oc.column('key').doNothing())
        .compile(),
    );
    this.pruneNow(now);
    if (inserted.numAffectedRows === 1) return 'first';
    const seen = await db
      .selectFrom('replay_guard')
      .select(['fingerprint', 'expires_at'])
      .where('key', '=', key)
      .executeTakeFirst();
    if (!seen) return 'first';
    if (Number(seen.expires_at) <= now) {
      // An expired entry not yet pruned: this is a new use of an old signature's window.
      await db
        .updateTable('replay_guard')
        .set({ fingerprint, expires_at: now + ttlMs })
        .where('key', '=', key)
        .execute();
      return 'first';
    }
    return seen.fingerprint === fingerprint ? 'same' : 'reused';
  }

  /** Forgets a signature whose request failed before it was handled, so its sender's retry is not refused. */
  async release(scope: string, signature: string): Promise<void> {
    await this.store.db
      .deleteFrom('replay_guard')
      .where('key', '=', digest(`${scope}\n${signature}`))
      .execute();
  }

  /** Expired entries go at most once a minute, off the request's path. */
  private pruneNow(now: number): void {
    if (now < this.nextPrune) return;
    this.nextPrune = now + 60_000;
    void this.store.db
      .deleteFrom('replay_guard')
      .where('expires_at', '<', now)
      .execute()
      .catch(() => undefined);
  }
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 48);
}

/** The DI token of the ReplayGuard. */
export const ReplayGuardToken = token<ReplayGuard>('ReplayGuard');
