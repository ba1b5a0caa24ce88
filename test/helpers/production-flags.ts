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
