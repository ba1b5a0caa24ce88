import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * Starts the built bot (`node dist/...`, as in production) with every built-in plugin and
 * SQLite, lets it settle, and reads its resident memory from /proc.
 */
export async function measureIdleRss(): Promise<number> {
  const root = resolve('.');
  execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'ignore' });
  const dir = mkdtempSync(join(tmpdir(), 'dingops-rss-'));
  writeFileSync(
    join(dir, 'bot.config.yaml'),
    `server:\n  port: 0\nstorage:\n  url: sqlite:${join(dir, 'db.sqlite')}\nlog:\n  level: warn\nplugins:\n  hello: {}\n`,
  );
  const child = spawn(
    'node',
    [join(root, 'dist/core/cli/main.js'), 'start', '--config', join(dir, 'bot.config.yaml')],
    { cwd: dir, stdio: ['pipe', 'ignore', 'inherit'] },
  );
  try {
    await new Promise((r) => setTimeout(r, 5000));
    if (child.exitCode !== null) throw new Error(`bot exited with ${child.exitCode}`);
    const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
    return kb / 1024;
  } finally {
    child.kill('SIGTERM');
  }
}
