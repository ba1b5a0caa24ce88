import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startSimulator } from '../../simulator/index.js';

export interface RssResult {
  /** Highest resident memory seen in the first seconds (start-up allocations). */
  startupPeakMb: number;
  /** Median resident memory between 25 and 40 s after start, once V8's memory reducer has run on the idle process. */
  idleMb: number;
}

/**
 * Starts the built bot (`node dist/...`, as in production) with the built-in plugins and
 * SQLite, connected over Stream to a simulator in this process (so only the bot is
 * measured), and samples its resident memory from /proc for 40 seconds.
 */
export async function measureIdleRss(): Promise<RssResult> {
  const root = resolve('.');
  execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'ignore' });
  const sim = await startSimulator({ pingIntervalMs: 0 });
  const dir = mkdtempSync(join(tmpdir(), 'dingops-rss-'));
  writeFileSync(
    join(dir, 'bot.config.yaml'),
    `dingtalk:\n  clientId: dingops-demo\n  clientSecret: dingops-demo-secret\n  apiBase: ${sim.url}\n  oapiBase: ${sim.url}\nserver:\n  port: 0\nstorage:\n  url: sqlite:${join(dir, 'db.sqlite')}\nlog:\n  level: warn\nplugins:\n  hello: {}\n`,
  );
  const child = spawn(
    'node',
    [join(root, 'dist/core/cli/main.js'), 'start', '--config', join(dir, 'bot.config.yaml')],
    {
      cwd: dir,
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const rss = () =>
    Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1]) / 1024;
  try {
    let peak = 0;
    const samples: number[] = [];
    for (let t = 1; t <= 40; t++) {
      await new Promise((r) => setTimeout(r, 1000));
      if (child.exitCode !== null) throw new Error(`bot exited with ${child.exitCode}`);
      const v = rss();
      if (t <= 6) peak = Math.max(peak, v);
      if (t > 25) samples.push(v);
    }
    samples.sort((a, b) => a - b);
    return { startupPeakMb: peak, idleMb: samples[Math.floor(samples.length / 2)]! };
  } finally {
    child.kill('SIGTERM');
    await sim.stop();
  }
}
