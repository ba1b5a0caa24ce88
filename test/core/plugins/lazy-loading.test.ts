import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type RunningSimulator, startSimulator } from '../../../simulator/index.js';
import { freePort } from '../../../testing/index.js';
import { copyCheckout } from '../../helpers/checkout-copy.js';

/**
 * What a configuration does not use is never loaded: a bot with only `hello` configured,
 * started as operators start it (its own process), connected over Stream to a simulator in
 * this process, answering a message. Then the modules it loaded (recorded by a loader hook)
 * must hold none of the other built-in plugins', no PostgreSQL driver on SQLite, no pretty
 * printer for the log when it is not a terminal, and no simulator outside demo mode.
 */
let bot: ChildProcess | undefined;
let sim: RunningSimulator | undefined;
let dir: string | undefined;
let checkout: string | undefined;

afterEach(async () => {
  bot?.kill('SIGKILL');
  await sim?.stop();
  for (const d of [dir, checkout]) if (d) rmSync(d, { recursive: true, force: true });
  bot = sim = dir = checkout = undefined;
});

/** How the bot is started: from the sources (development), or the build as it ships. */
const FROM_SOURCES = { flags: ['--import', 'tsx'], main: resolve('core/cli/main.ts') };
const built = (copy: string) => ({ flags: [], main: join(copy, 'dist/core/cli/main.js') });

/** What the last bot printed (stdout and stderr). */
let printed = '';

async function loadedModules(plugins: string, entry = FROM_SOURCES): Promise<string[]> {
  sim = await startSimulator({ pingIntervalMs: 0 });
  dir = mkdtempSync(join(tmpdir(), 'dingops-lazy-'));
  const port = await freePort();
  const config = join(dir, 'bot.config.yaml');
  writeFileSync(
    config,
    `dingtalk:\n  clientId: dingops-demo\n  clientSecret: dingops-demo-secret\n  apiBase: ${sim.url}\n  oapiBase: ${sim.url}\nserver:\n  port: ${port}\nstorage:\n  url: sqlite:${join(dir, 'db.sqlite')}\nlog:\n  level: warn\nplugins:\n${plugins}`,
  );
  const out = join(dir, 'modules.txt');
  bot = spawn(
    process.execPath,
    [
      ...entry.flags,
      '--import',
      resolve('test/fixtures/module-probe/register.mjs'),
      entry.main,
      'start',
      '--config',
      config,
    ],
    { env: { ...process.env, MODULE_PROBE_OUT: out }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  bot.stdout?.on('data', (d) => (output += d));
  bot.stderr?.on('data', (d) => (output += d));
  const s = sim;
  await s.client.until(() => s.client.api.connections() > 0, 60_000, `the bot to connect (${output})`);
  // Used, not only started: a message answered through the plugin.
  const reply = await s.client.as('alice').ask('hello team', { group: 'ops', timeoutMs: 30_000 });
  expect(reply.title ?? reply.content).toContain('team');
  const exited = new Promise((r) => bot?.once('exit', r));
  bot.kill('SIGTERM');
  await exited;
  printed = output;
  return readFileSync(out, 'utf8').split('\n').filter(Boolean);
}

describe('lazy loading', () => {
  it('a bot never loads the modules of plugins it does not run, nor what its configuration does not use', async () => {
    const loaded = await loadedModules('  hello: {}\n');
    const under = (part: string) => loaded.filter((m) => m.includes(part));
    // The probe saw the bot's own modules, so an empty match below means something.
    expect(under('/core/runtime/bot.ts').length).toBeGreaterThan(0);
    expect(under('/plugins/hello/').length).toBeGreaterThan(0);
    for (const other of ['alerts', 'tasks', 'warroom', 'faq'])
      expect(under(`/plugins/${other}/`), `plugin ${other}`).toEqual([]);
    expect(under('/node_modules/pg/'), 'the PostgreSQL driver').toEqual([]);
    expect(under('/node_modules/pino-pretty/'), 'the pretty log printer').toEqual([]);
    expect(under('/simulator/'), 'the simulator').toEqual([]);
  }, 120_000);

  it('the built bot loads axios, undici (fetch) and http2 only if something calls them: the Stream SDK imports axios but our client makes its calls', async () => {
    // The bundle only (esbuild, a second or two), in a copy of the checkout: the type
    // declarations are not needed to run.
    checkout = copyCheckout();
    execFileSync(process.execPath, [join(checkout, 'deploy/bundle.mjs')], {
      stdio: 'pipe',
      timeout: 120_000,
    });
    const loaded = await loadedModules('  hello: {}\n  faq: {}\n', built(checkout));
    // The probe saw the built chunks and Node's own modules, and the SDK answered over Stream.
    expect(loaded.filter((m) => m.includes('/dist/core/chunks/')).length).toBeGreaterThan(0);
    expect(loaded).toContain('node:http');
    expect(
      loaded.filter((m) => /\/chunks\/axios-/.test(m)),
      'axios',
    ).toEqual([]);
    expect(
      loaded.filter((m) => m.includes('light-my-request')),
      'the test-only injector',
    ).toEqual([]);
    expect(loaded).not.toContain('node:internal/deps/undici/undici');
    expect(loaded).not.toContain('node:http2');
    // The SDK's console lines (`connect success`, `Disconnecting.`) went to the JSON log (at
    // info, below this bot's warn level), not raw between its lines: in the bundle too.
    expect(printed).not.toMatch(/connect success|Disconnecting\./);
    for (const line of printed.split('\n').filter((l) => l.trim()))
      expect(line.startsWith('{'), `a raw line in the JSON log: ${line}`).toBe(true);
  }, 180_000);
});
