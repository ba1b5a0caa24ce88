import { defineConfig } from 'vitest/config';

// The whole suite runs on SQLite, and a second time on PostgreSQL when
// DINGOPS_TEST_PG_URL is set (.ci/run installs and starts one). Tests pick their store
// through test/helpers/storage.ts from DINGOPS_TEST_STORAGE.
const pg = process.env.DINGOPS_TEST_PG_URL;
const common = { include: ['test/**/*.test.ts'], testTimeout: 20_000, hookTimeout: 30_000 };

export default defineConfig({
  test: {
    projects: [
      { test: { ...common, name: 'sqlite', env: { DINGOPS_TEST_STORAGE: 'sqlite' } } },
      ...(pg ? [{ test: { ...common, name: 'postgres', env: { DINGOPS_TEST_STORAGE: 'postgres' } } }] : []),
    ],
  },
});
