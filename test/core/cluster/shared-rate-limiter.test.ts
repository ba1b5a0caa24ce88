import { describe, expect, it } from 'vitest';
import { SharedRateLimiter } from '../../../core/cluster/shared-rate-limiter.js';
import { useMigratedStore } from '../../helpers/storage.js';

const store = useMigratedStore();
const shared = process.env.DINGOPS_TEST_STORAGE === 'postgres';

/** The most acquisitions in any window of `ms`, from their times. */
function busiest(times: number[], ms: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while ((sorted[i] ?? 0) - (sorted[j] ?? 0) >= ms) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

describe('the QPS shared by replicas (PostgreSQL)', () => {
  it('lets two replicas together make at most the limit per window of one API', async () => {
    if (!shared) return;
    // Two replicas' limiters on one database; a 200 ms window keeps the test short.
    const a = new SharedRateLimiter(store().db, 4, 200);
    const b = new SharedRateLimiter(store().db, 4, 200);
    const started = Date.now();
    await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? a : b).acquire('robot/send')));
    // As counted (the database's clock, when each call was let through).
    const counted = await store()
      .db.selectFrom('api_call')
      .select('at')
      .where('api', '=', 'robot/send')
      .execute();
    expect(counted).toHaveLength(12);
    expect(
      busiest(
        counted.map((r) => Number(r.at)),
        200,
      ),
    ).toBeLessThanOrEqual(4);
    // Twelve at four per window: at least two full windows waited.
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
  });
});
