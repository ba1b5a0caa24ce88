import { cpSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';

/** What a checkout holds that is not its sources: installed, built, or local state. */
const NOT_SOURCES = new Set(['node_modules', 'dist', '.git', '.bench', '.api', 'data', 'coverage']);

/**
 * A copy of this checkout's sources in a temporary folder (or `into`), sharing its installed
 * node_modules, for the tests that build: they build there, never into the checkout, so a
 * test run leaves no `dist/` behind for `npx dingops` to find, and builds running at once do
 * not share an output folder. Returns the copy's path; the caller removes it.
 */
export function copyCheckout(into = mkdtempSync(join(tmpdir(), 'dingops-checkout-'))): string {
  const root = resolve('.');
  cpSync(root, into, {
    recursive: true,
    filter: (src) => src === root || !NOT_SOURCES.has(basename(src)) || !isTopLevel(root, src),
  });
  symlinkSync(join(root, 'node_modules'), join(into, 'node_modules'));
  return into;
}

function isTopLevel(root: string, path: string): boolean {
  return resolve(path, '..') === root;
}
