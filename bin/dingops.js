#!/usr/bin/env node
// Entry of the installed package: runs the compiled CLI. In a source checkout (`npx dingops`
// there) the TypeScript sources run through tsx, even beside a dist/ from an earlier
// `npm run build`: a build is a snapshot, and running it there would run yesterday's code.
// DINGOPS_RUN_BUILD=1 runs the build instead (to try it as it ships).
import { existsSync } from 'node:fs';

const dist = new URL('../dist/core/cli/main.js', import.meta.url);
const source = new URL('../core/cli/main.ts', import.meta.url);
const fromSources = existsSync(source) && process.env.DINGOPS_RUN_BUILD !== '1';
const notBuilt = () => Promise.reject(new Error('dingops is not built: run `npm run build` first'));
const load = fromSources
  ? import('tsx/esm/api').then(
      ({ tsImport }) => tsImport(source.href, import.meta.url),
      // A checkout installed without dev dependencies has no tsx: its build, if any.
      () => (existsSync(dist) ? import(dist.href) : notBuilt()),
    )
  : existsSync(dist)
    ? import(dist.href)
    : notBuilt();
load
  .then((m) => m.main(process.argv.slice(2)).then(m.exitWith))
  .catch((err) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
