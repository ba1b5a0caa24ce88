#!/usr/bin/env node
// Entry of the installed package: runs the compiled CLI. In a source checkout without a build
// (`npx dingops` there), the TypeScript sources run through tsx instead.
import { existsSync } from 'node:fs';

const dist = new URL('../dist/core/cli/main.js', import.meta.url);
const source = new URL('../core/cli/main.ts', import.meta.url);
const load = existsSync(dist)
  ? import(dist.href)
  : existsSync(source)
    ? import('tsx/esm/api').then(({ tsImport }) => tsImport(source.href, import.meta.url))
    : Promise.reject(new Error('dingops is not built: run `npm run build` first'));
load
  .then((m) => m.main(process.argv.slice(2)).then(m.exitWith))
  .catch((err) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
