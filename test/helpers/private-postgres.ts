import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../testing/index.js';

/**
 * A PostgreSQL server of a test's own, to stop and start under running bots (the shared test
 * server cannot be: other test files use it). Debian's binaries, run as the `postgres` user
 * (initdb refuses root); loopback only, trust authentication, removed by `destroy`.
 */
export interface PrivatePostgres {
  url: (schema: string) => string;
  stop(): void;
  start(): void;
  destroy(): void;
}

function binDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const version = readdirSync(root)
    .sort((a, b) => Number(a) - Number(b))
    .at(-1);
  return version ? join(root, version, 'bin') : undefined;
}

/** Whether this machine can run one (Debian's PostgreSQL installed, running as root for `runuser`). */
export function canRunPrivatePostgres(): boolean {
  const bin = binDir();
  return Boolean(bin && existsSync(join(bin, 'initdb')) && process.getuid?.() === 0);
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = binDir() as string;
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'dingops-pg-'));
  chmodSync(dir, 0o777);
  const data = join(dir, 'data');
  const asPostgres = (cmd: string, args: string[]) =>
    execFileSync('runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args], {
      stdio: 'pipe',
      timeout: 60_000,
    });
  asPostgres('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  const ctl = (action: string[]) =>
    asPostgres('pg_ctl', [
      '-D',
      data,
      '-l',
      join(dir, 'log'),
      '-o',
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
      '-w',
      ...action,
    ]);
  ctl(['start']);
  return {
    url: (schema) => `postgres://postgres@127.0.0.1:${port}/postgres?schema=${schema}`,
    stop: () => ctl(['stop', '-m', 'fast']),
    start: () => ctl(['start']),
    destroy: () => {
      try {
        ctl(['stop', '-m', 'immediate']);
      } catch {
        // Already stopped.
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
