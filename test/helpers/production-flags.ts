import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The node flags the container starts the bot with (the Dockerfile's CMD), so the benchmarks
 * measure the bot as it runs in production: `CMD ["node", <flags...>, "dist/core/cli/main.js", "start"]`.
 */
export function productionNodeFlags(root: string): string[] {
  const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
  const cmd = /^CMD (\[.*\])$/m.exec(dockerfile)?.[1];
  if (!cmd) throw new Error('the Dockerfile has no CMD ["node", ...] line');
  const argv = JSON.parse(cmd) as string[];
  const main = argv.indexOf('dist/core/cli/main.js');
  if (argv[0] !== 'node' || main < 0) throw new Error(`unexpected Dockerfile CMD: ${cmd}`);
  return argv.slice(1, main);
}

/** The container's runtime stage's environment, as its `ENV` lines (after the last `FROM`) set it. */
export function imageEnv(root: string): Record<string, string> {
  const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
  const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
  const env: Record<string, string> = {};
  for (const m of runtime.matchAll(/^ENV ((?:.*\\\n)*.*)$/gm))
    for (const [, key, value] of (m[1] ?? '').replace(/\\\n/g, ' ').matchAll(/([A-Z_][A-Z0-9_]*)=(\S+)/g))
      if (key && value !== undefined) env[key] = value;
  return env;
}

/**
 * Of the image's environment, what shapes the process itself: the allocator (`MALLOC_*`),
 * libuv (`UV_*`), node (`NODE_OPTIONS`). Not the bot's own settings (its config path), which
 * the benchmarks give their own way.
 */
export function productionEnv(root: string): Record<string, string> {
  return Object.fromEntries(
    Object.entries(imageEnv(root)).filter(([key]) => /^(MALLOC_|UV_|NODE_OPTIONS$)/.test(key)),
  );
}
