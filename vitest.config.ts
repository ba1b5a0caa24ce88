import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// The whole suite runs on SQLite, and a second time on PostgreSQL when
// DINGOPS_TEST_PG_URL is set (.ci/run installs and starts one). Tests pick their store
// through test/helpers/storage.ts from DINGOPS_TEST_STORAGE.
const pg = process.env.DINGOPS_TEST_PG_URL;
// A larger young generation: with V8's default, garbage collection alone makes string work on
// 1 MB grow faster than linearly, which the linear-time tests would mistake for our code's.
// Plugins import 'dingops' as plugin authors do: in this repository, the sources.
const alias = [
  { find: /^dingops$/, replacement: fileURLToPath(new URL('./core/index.ts', import.meta.url)) },
  { find: /^dingops\/testing$/, replacement: fileURLToPath(new URL('./testing/index.ts', import.meta.url)) },
  { find: /^dingops\/simulator$/, replacement: fileURLToPath(new URL('./simulator/index.ts', import.meta.url)) },
];
const common = {
  alias,
  include: ['test/**/*.test.ts'],
  testTimeout: 20_000,
  hookTimeout: 30_000,
  execArgv: ['--max-semi-space-size=64'],
};

export default defineConfig({
  test: {
    // Most tests wait on sockets, timers and child processes, not the CPU: two files at a time
    // even on a 2-core machine (vitest's default there is one). Tests wait for what they need
    // rather than for fixed times, so a neighbouring file's load slows them without failing them.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    projects: [
      { test: { ...common, name: 'sqlite', env: { DINGOPS_TEST_STORAGE: 'sqlite' } } },
      ...(pg ? [{ test: { ...common, name: 'postgres', env: { DINGOPS_TEST_STORAGE: 'postgres' } } }] : []),
    ],
  },
});
