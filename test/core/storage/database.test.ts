import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../../core/storage/database.js';
import { dropTestStorage, persistentTestStorageUrl, testStorageKind } from '../../helpers/storage.js';

describe.runIf(testStorageKind() === 'postgres')('opening a PostgreSQL store', () => {
  it('several replicas opening a new schema at once all start (none loses the race to create it)', async () => {
    const url = persistentTestStorageUrl();
    try {
      const results = await Promise.allSettled(Array.from({ length: 6 }, () => openDatabase(url)));
      expect(results.map((r) => (r.status === 'rejected' ? String(r.reason) : 'ok'))).toEqual(
        Array(6).fill('ok'),
      );
      for (const r of results) if (r.status === 'fulfilled') await r.value.close();
    } finally {
      await dropTestStorage(url);
    }
  });
});
