import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type RunningSimulator, startSimulator } from '../../../simulator/index.js';
import { dropTestStorage, testStorageKind, testStorageUrl } from '../../helpers/storage.js';

let sim: RunningSimulator | undefined;
const children: ChildProcess[] = [];
let storage = '';

afterEach(async () => {
  for (const c of children) c.kill('SIGKILL');
  children.length = 0;
  await sim?.stop();
  await dropTestStorage(storage);
});

function startBot(configFile: string, env: Record<string, string>): ChildProcess {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', resolve('core/cli/main.ts'), 'start', '--config', configFile],
    {
      env: { ...process.env, ...env, DINGOPS_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  Object.defineProperty(child, 'output', { get: () => output });
  children.push(child);
  return child;
}

describe('crash and restart mid-delivery', () => {
  it('delivers every queued message exactly once after a SIGKILL', async () => {
    // Webhooks expire at once, so replies go through the rate-limited OpenAPI and queue up.
    sim = await startSimulator({ pingIntervalMs: 0, sessionWebhookTtlMs: 1000 });
    const dir = mkdtempSync(join(tmpdir(), 'dingops-crash-'));
    storage = testStorageKind() === 'sqlite' ? `sqlite:${join(dir, 'bot.db')}` : testStorageUrl();
    const configFile = join(dir, 'bot.config.yaml');
    writeFileSync(
      configFile,
      `dingtalk:\n  clientId: dingops-demo\n  clientSecret: dingops-demo-secret\n  apiBase: ${sim.url}\n  oapiBase: ${sim.url}\n  limits:\n    qps: 2\nserver:\n  port: 0\nlocale: en\nplugins:\n  burst:\n    from: ${resolve('test/fixtures/plugins/burst')}\n`,
    );
    const env = { DINGOPS_STORAGE_URL: storage };
    const { client } = sim;
    const first = startBot(configFile, env);
    await client.until(() => client.api.connections() > 0, 30_000, 'the bot to connect');
    const before = client.cursor();
    await client.as('bob').say('burst 10', { group: 'ops' });
    const replies = () =>
      client
        .botMessages('ops')
        .filter((m) => m.seq > before)
        .map((m) => m.content);
    await client.until(() => replies().length >= 3 || undefined, 15_000, 'three deliveries');
    // Between two sends (the bot waits ~500 ms for the rate limit): kill it hard.
    await new Promise((r) => setTimeout(r, 100));
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    const atKill = replies().length;
    expect(atKill).toBeLessThan(10);
    startBot(configFile, env);
    await client.until(
      () => replies().length >= 10 || undefined,
      30_000,
      'all ten replies after the restart',
    );
    await new Promise((r) => setTimeout(r, 1000));
    expect(replies()).toEqual(Array.from({ length: 10 }, (_, i) => `reply ${i + 1}`));
  }, 90_000);
});
