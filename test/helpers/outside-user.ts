import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { afterAll } from 'vitest';
import { freePort } from '../../testing/index.js';

/**
 * The project tests that act as someone outside this repository (a newcomer, a plugin
 * author) install from the registry: they run in CI (CI=true), or locally when asked with
 * their variable, on the SQLite pass only.
 */
export function outsideUserTests(variable: string): boolean {
  return (
    (process.env.CI === 'true' || process.env[variable] === '1') &&
    process.env.DINGOPS_TEST_STORAGE !== 'postgres'
  );
}

/** Runs a command as that user would: in a folder, with no DingTalk credentials in the environment. */
export function runAs(
  cwd: string,
  cmd: string,
  args: string[],
  options: { env?: Record<string, string>; input?: string } = {},
): string {
  return execFileSync(cmd, args, {
    cwd,
    input: options.input,
    encoding: 'utf8',
    env: { ...process.env, DINGTALK_CLIENT_ID: '', DINGTALK_CLIENT_SECRET: '', ...options.env },
    timeout: 600_000,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** A scratch folder and the bot process such a test starts, both removed after the file's tests. */
export function useScratch(): { dir?: string; bot?: ChildProcess } {
  const scratch: { dir?: string; bot?: ChildProcess } = {};
  afterAll(() => {
    // The whole process group: `npm start` runs the bot in grandchildren (sh, tsx, node)
    // that a signal to npm alone leaves running after the suite.
    const pid = scratch.bot?.pid;
    if (pid)
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    if (scratch.dir) rmSync(scratch.dir, { recursive: true, force: true });
  });
  return scratch;
}

/**
 * `npm start` in a folder, as that user runs it without a terminal (no credentials: the
 * embedded simulator), until it prints how to open the chat. The process is the scratch's bot.
 */
export async function npmStartDemo(
  scratch: { bot?: ChildProcess },
  cwd: string,
  args: string[] = [],
  env: Record<string, string> = {},
): Promise<{ hint: string; output: () => string; port: number; simPort: number }> {
  const port = await freePort();
  const simPort = await freePort();
  const bot = spawn('npm', ['start', '--', ...args, '--sim-port', String(simPort)], {
    cwd,
    env: {
      ...process.env,
      DINGTALK_CLIENT_ID: '',
      DINGTALK_CLIENT_SECRET: '',
      DINGOPS_PORT: String(port),
      DINGOPS_LOCALE: 'en',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so the scratch can end it with everything it started.
    detached: true,
  });
  scratch.bot = bot;
  let output = '';
  bot.stdout!.on('data', (d) => (output += d));
  bot.stderr!.on('data', (d) => (output += d));
  for (let i = 0; i < 300; i++) {
    const hint = /Talk to it with: (.*)/.exec(output)?.[1];
    if (hint) return { hint: hint.trim(), output: () => output, port, simPort };
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`npm start printed no chat hint in 30 s:\n${output}`);
}
