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

  it("ends the task's whole process group when the bot process is killed (SIGKILL), silent tasks included", async () => {
    // A bot of its own: it starts a task that prints nothing (its grandchild neither) and would
    // run for a minute, says the pids, and is then killed with no chance to clean up.
    const runner = new URL('../../../plugins/tasks/runner.ts', import.meta.url).pathname;
    const script = `import(${JSON.stringify(runner)}).then(({ runTask }) => {
      const h = runTask({ argv: [process.execPath, '-e', ${JSON.stringify(TREE.replace("console.log('child ' + c.pid);", "require('node:fs').writeFileSync(process.argv[1], String(c.pid));"))}, process.argv[1]], env: { PATH: process.env.PATH ?? '' }, timeoutMs: 600000, outputLimit: 1024, graceMs: 300 });
      console.log('group ' + h.pid);
    });`;
    const { mkdtempSync, readFileSync, existsSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { spawn } = await import('node:child_process');
    const file = join(mkdtempSync(join(tmpdir(), 'dingops-orphan-')), 'grandchild');
    const bot = spawn(node, ['--import', 'tsx', '-e', script, file], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    bot.stdout.on('data', (d) => (out += d));
    const wait = async (what: () => boolean, ms: number, label: string) => {
      for (const end = Date.now() + ms; !what(); ) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${label}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    await wait(
      () => /group \d+/.test(out) && existsSync(file) && readFileSync(file, 'utf8').length > 0,
      15_000,
      'the task',
    );
    const group = Number(/group (\d+)/.exec(out)?.[1]);
    const grandchild = Number(readFileSync(file, 'utf8'));
    expect(alive(group) && alive(grandchild)).toBe(true);
    bot.kill('SIGKILL');
    // The supervisor sees its lifeline close and ends the group (TERM, then KILL): seconds, not a minute.
    await wait(() => !alive(group) && !alive(grandchild), 5_000, 'the orphaned task to end');
  }, 30_000);
});
