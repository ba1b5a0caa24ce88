import { describe, expect, it } from 'vitest';
import { runTask } from '../../../plugins/tasks/runner.js';
import { isRunning as alive } from './helpers.js';

const node = process.execPath;
const env = { PATH: process.env.PATH ?? '' };
const base = { env, timeoutMs: 10_000, outputLimit: 64 * 1024, graceMs: 300 };

/** A node script that starts a grandchild sleeping for a minute and prints its pid. */
const TREE = `const { spawn } = require('node:child_process');
const c = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
console.log('child ' + c.pid);
setTimeout(() => {}, 60000);`;

describe('task runner', () => {
  it('records output, exit code and duration; a failure keeps its exit code', async () => {
    const ok = await runTask({ ...base, argv: [node, '-e', 'console.log("hello"); console.error("warn")'] })
      .done;
    expect(ok.end).toBe('succeeded');
    expect(ok.exitCode).toBe(0);
    expect(ok.output).toContain('hello');
    expect(ok.output).toContain('warn');
    const bad = await runTask({ ...base, argv: [node, '-e', 'process.exit(3)'] }).done;
    expect(bad).toMatchObject({ end: 'failed', exitCode: 3 });
  });

  it('passes arguments literally: no shell ever sees them', async () => {
    const evil = '$(touch /tmp/pwned); `id` | cat > x && rm -rf ~; echo\nnext';
    const r = await runTask({ ...base, argv: [node, '-e', 'process.stdout.write(process.argv[1])', evil] })
      .done;
    expect(r.output).toBe(evil);
  });

  it('kills the whole process tree on timeout', async () => {
    const run = runTask({ ...base, timeoutMs: 500, argv: [node, '-e', TREE] });
    const r = await run.done;
    expect(r.end).toBe('timed-out');
    const grandchild = Number(/child (\d+)/.exec(r.output)?.[1]);
    expect(grandchild).toBeGreaterThan(0);
    await new Promise((res) => setTimeout(res, 100));
    expect(alive(grandchild)).toBe(false);
  });

  it('kills the whole process tree on cancel, with KILL when TERM is ignored', async () => {
    const stubborn = `process.on('SIGTERM', () => {}); ${TREE}`;
    const seen: string[] = [];
    const run = runTask({ ...base, argv: [node, '-e', stubborn], onOutput: (c) => void seen.push(c) });
    while (!seen.join('').includes('child')) await new Promise((res) => setTimeout(res, 20));
    run.cancel();
    const r = await run.done;
    expect(r.end).toBe('cancelled');
    expect(r.signal).toBe('SIGKILL');
    await new Promise((res) => setTimeout(res, 100));
    expect(alive(Number(/child (\d+)/.exec(r.output)?.[1]))).toBe(false);
  });

  it('keeps output up to the limit and counts the rest', async () => {
    const r = await runTask({
      ...base,
      outputLimit: 1000,
      argv: [node, '-e', 'for (let i = 0; i < 1000; i++) console.log("line " + i)'],
    }).done;
    expect(Buffer.byteLength(r.output)).toBe(1000);
    expect(r.droppedBytes).toBeGreaterThan(5000);
  });

  it('reports a program that cannot start', async () => {
    const r = await runTask({ ...base, argv: ['/no/such/program'] }).done;
    expect(r).toMatchObject({ end: 'error', error: 'ENOENT' });
  });
});
