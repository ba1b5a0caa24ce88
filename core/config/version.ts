import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** dingops' own package.json, found by walking up (works from `core/` and from `dist/core/`). */
export function packageInfo(): { version: string; root: string } {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const p = join(dir, 'package.json');
    if (existsSync(p)) {
      const pkg = JSON.parse(readFileSync(p, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'dingops') return { version: pkg.version ?? '0.0.0', root: dir };
    }
    dir = dirname(dir);
  }
  return { version: '0.0.0', root: process.cwd() };
}
