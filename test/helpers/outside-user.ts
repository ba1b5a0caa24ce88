import { type ChildProcess, execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { afterAll } from 'vitest';

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
    scratch.bot?.kill('SIGKILL');
    if (scratch.dir) rmSync(scratch.dir, { recursive: true, force: true });
  });
  return scratch;
}
