import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../../testing/index.js';
import { storeIndependentPass } from '../../helpers/storage.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
const TSX = join(ROOT, 'node_modules/.bin/tsx');

let children: ChildProcess[] = [];
let servers: Server[] = [];
afterEach(async () => {
  for (const c of children) c.kill('SIGKILL');
  for (const s of servers) await new Promise((r) => s.close(r));
  children = [];
  servers = [];
});

/**
 * `dingops start ...` as an operator runs it, in its own process, with a fresh store. With
 * `terminal`, in a terminal (what `npm start` in a shell has): under `script`, which gives the
 * bot one, its keys written to `child.stdin`.
 */
function start(
  args: string[],
  yaml = '',
  env: Record<string, string> = {},
  { terminal = false } = {},
): {
  child: ChildProcess;
  done: Promise<{ code: number | null; out: string; ms: number }>;
  output: () => string;
} {
  const dir = mkdtempSync(join(tmpdir(), 'dingops-start-'));
  const file = join(dir, 'bot.config.yaml');
  writeFileSync(file, yaml || '{}\n');
  const started = Date.now();
  const command = [TSX, 'core/cli/main.ts', 'start', '--config', file, ...args];
  const [cmd, ...argv] = terminal
    ? ['script', '-qefc', command.map((a) => `'${a}'`).join(' '), '/dev/null']
    : command;
  const child = spawn(cmd!, argv, {
    cwd: ROOT,
    env: {
      ...process.env,
      DINGTALK_CLIENT_ID: '',
      DINGTALK_CLIENT_SECRET: '',
      DINGOPS_STORAGE_URL: `sqlite:${join(dir, 'bot.db')}`,
      DINGOPS_LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: [terminal ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (b) => (out += b));
  child.stderr!.on('data', (b) => (out += b));
  const done = new Promise<{ code: number | null; out: string; ms: number }>((resolve) =>
    child.on('exit', (code) => resolve({ code, out, ms: Date.now() - started })),
  );
  return { child, done, output: () => out };
}

/** Whether something still listens on the port (the embedded simulator after a failed start). */
async function listening(port: number): Promise<boolean> {
  try {
    await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(1000) });
    return true;
  } catch {
    return false;
  }
}

describe.runIf(storeIndependentPass)('dingops start', () => {
  it('without credentials refuses to run (no simulator by accident), naming the variables', async () => {
    const r = await start([], '', { NODE_ENV: 'production' }).done;
    expect(r.code).toBe(1);
    expect(r.out).toContain('DINGTALK_CLIENT_ID and DINGTALK_CLIENT_SECRET');
    expect(r.out).toContain('start --demo');
    expect(r.out).not.toContain('simulator at http');
  });

  it('exits 1 on each fatal start-up error, closing the simulator it opened', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    servers.push(blocker);
    const taken = (blocker.address() as { port: number }).port;
    const dir = mkdtempSync(join(tmpdir(), 'dingops-boom-'));
    writeFileSync(
      join(dir, 'index.ts'),
      `export default { name: 'boom', setup() { throw new Error('boom in setup'); } };\n`,
    );
    const cases: Array<[string, string, Record<string, string>, RegExp]> = [
      [
        'unknown plugin',
        'plugins:\n  alrets: {}\n',
        {},
        /no built-in plugin 'alrets'; did you mean 'alerts'\?/,
      ],
      ['missing from', 'plugins:\n  mine: { from: ./nope }\n', {}, /plugin 'mine': .*nope does not exist/],
      [
        'unreachable PostgreSQL',
        '',
        { DINGOPS_STORAGE_URL: 'postgres://u:p@127.0.0.1:1/none' },
        /cannot open storage postgres:\/\/u:\*\*\*@127\.0\.0\.1:1\/none: connect ECONNREFUSED/,
      ],
      [
        'port in use',
        `server:\n  port: ${taken}\n`,
        {},
        /port \d+ on 127\.0\.0\.1 is in use by another program: set server\.port in the config \(or DINGOPS_PORT\)/,
      ],
      [
        'required plugin failing',
        `plugins:\n  boom: { from: ${dir}, required: true }\n`,
        {},
        /boom in setup/,
      ],
    ];
    for (const [what, yaml, env, message] of cases) {
      const simPort = await freePort();
      const r = await start(['--demo', '--sim-port', String(simPort)], yaml, env).done;
      expect(r.code, what).toBe(1);
      expect(r.out, what).toMatch(message);
      expect(r.out, what).not.toContain('EADDRINUSE');
      // Nothing hangs: the process is gone and so is the simulator it started.
      expect(r.ms, what).toBeLessThan(15_000);
      expect(await listening(simPort), what).toBe(false);
    }
  }, 90_000); // several processes started in turn: seconds each when the machine is busy

  it('with --demo runs on the embedded simulator and says so in /readyz and status', async () => {
    const port = await freePort();
    const simPort = await freePort();
    const { child, done } = start(['--demo', '--sim-port', String(simPort)], `server:\n  port: ${port}\n`);
    let ready: { status: string; checks: Array<{ name: string; detail: string }> } | undefined;
    for (let i = 0; i < 100 && !ready; i++) {
      await new Promise((r) => setTimeout(r, 100));
      ready = (await fetch(`http://127.0.0.1:${port}/readyz`)
        .then((r) => (r.ok ? r.json() : undefined))
        .catch(() => undefined)) as typeof ready;
    }
    expect(ready?.status).toBe('ready');
    expect(ready?.checks.find((c) => c.name === 'mode')?.detail).toMatch(/^demo \(simulator at http/);
    // `status` in chat says it too (alice is the demo org's admin).
    const sim = `http://127.0.0.1:${simPort}/sim/api`;
    const said = await fetch(`${sim}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ conversation: null, sender: 'alice', text: 'status' }),
    });
    expect(said.ok).toBe(true);
    let reply = '';
    for (let i = 0; i < 50 && !reply; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const { messages } = (await (await fetch(`${sim}/messages?conversation=dm:alice`)).json()) as {
        messages: Array<{ sender: string; content: string }>;
      };
      reply = messages.find((m) => m.sender === 'bot')?.content ?? '';
    }
    // The default locale: zh-CN.
    expect(reply).toMatch(/演示模式（模拟器 http/);
    child.kill('SIGTERM');
    const r = await done;
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Talk to it with: npm run dingops -- chat --sim http/);
  });

  it('in a terminal, the demo chat ends the bot with it: /quit or Ctrl-C, the prompt never comes back', async () => {
    // `npm start` in a terminal: the chat shares it with the log. A terminal is what changes
    // the chat (prompt, raw keys), so the bot runs under `script`, which gives it one.
    for (const [what, keys] of [
      ['/quit', '/quit\r'],
      ['Ctrl-C', '\x03'],
    ] as const) {
      const { child, done, output } = start(
        ['--demo', '--sim-port', String(await freePort())],
        `server:\n  port: ${await freePort()}\nplugins:\n  hello: {}\n`,
        // The bot's own lines (stopping, stopped) are what brought the prompt back.
        { DINGOPS_LOG_LEVEL: 'info' },
        { terminal: true },
      );
      for (let i = 0; i < 600 && !/Chatting with the bot/.test(output()); i++)
        await new Promise((r) => setTimeout(r, 100));
      expect(output(), what).toMatch(/Chatting with the bot/);
      child.stdin!.write(keys);
      // Ended, not waiting on the terminal (a minute is far more than a stop takes).
      const still = new Promise((r) => setTimeout(() => r('still running'), 60_000).unref());
      expect(await Promise.race([done.then((r) => r.code), still]), what).toBe(0);
      const out = output();
      expect(out, what).toMatch(/INFO.*stopped/);
      const afterStop = out.slice(out.lastIndexOf('stopped'));
      expect(afterStop, what).not.toContain('alice@dm>');
    }
  }, 180_000);

  it('keeps running when a failure escapes the error handling, and logs and counts it', async () => {
    const port = await freePort();
    const simPort = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'dingops-escape-'));
    // A plugin whose background work fails in a way nothing handles, once the bot runs.
    writeFileSync(
      join(dir, 'leaky.mjs'),
      `export default { name: 'leaky', setup(ctx) { ctx.schedule('leak', '* * * * * *', () => { setImmediate(() => { Promise.reject(new Error('leaked on purpose')); }); }); } };\n`,
    );
    const { child, done } = start(
      ['--demo', '--sim-port', String(simPort)],
      `server:\n  port: ${port}\nplugins:\n  leaky:\n    from: ${join(dir, 'leaky.mjs')}\n`,
    );
    let metrics = '';
    for (let i = 0; i < 100 && !/dingops_errors_total\{where="unhandled"\} [1-9]/.test(metrics); i++) {
      await new Promise((r) => setTimeout(r, 100));
      metrics = await fetch(`http://127.0.0.1:${port}/metrics`)
        .then((r) => (r.ok ? r.text() : ''))
        .catch(() => '');
    }
    expect(metrics).toMatch(/dingops_errors_total\{where="unhandled"\} [1-9]/);
    // Still serving, a few failures later.
    await new Promise((r) => setTimeout(r, 1_500));
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    child.kill('SIGTERM');
    const r = await done;
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/a failure escaped the bot's error handling; the bot goes on/);
    expect(r.out).toContain('leaked on purpose');
  });
});
