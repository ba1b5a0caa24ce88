#!/usr/bin/env node
// Removes what a production install of dingops carries but never runs: better-sqlite3's
// C sources and build intermediates (only its compiled addon is loaded). Run after
// `npm ci --omit=dev` (the Dockerfile does; so does the production-install test, which
// measures what is left). Usage: node deploy/slim-node-modules.mjs [node_modules dir]
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const modules = process.argv[2] ?? 'node_modules';
const sqlite = join(modules, 'better-sqlite3');
if (existsSync(sqlite)) {
  for (const dir of ['deps', 'src']) rmSync(join(sqlite, dir), { recursive: true, force: true });
  const build = join(sqlite, 'build');
  for (const entry of existsSync(build) ? readdirSync(build) : [])
    if (entry !== 'Release') rmSync(join(build, entry), { recursive: true, force: true });
  const release = join(build, 'Release');
  for (const entry of existsSync(release) ? readdirSync(release) : [])
    if (entry !== 'better_sqlite3.node') rmSync(join(release, entry), { recursive: true, force: true });
}
