import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { runChat } from '../../../core/cli/chat-client.js';
import hello from '../../../plugins/hello/index.js';
import { freePort } from '../../../testing/index.js';
import { createSimBot, type SimBot } from '../../helpers/sim-bot.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
let sb: SimBot | undefined;
afterEach(async () => {
  await sb?.stop();
  sb = undefined;
});

describe('dingops chat with piped input', () => {
  it('handles the lines in order, each after the reply to the one before, and ends with the input', async () => {
    sb = await createSimBot({ plugins: [hello] });
    const input = new PassThrough();
    let text = '';
    const output = new Writable({
      write(chunk, _enc, cb) {
        text += chunk.toString();
        cb();
      },
    });
    // All at once, as `printf ... | dingops chat` delivers them.
    input.end('ping\n/group ops\nhello team\n1\nwhoami\n');
    await runChat({ sim: sb.sim.url, user: 'alice', input, output });
    const pong = text.indexOf('pong');
    const card = text.indexOf('Hello, team');
    const waved = text.search(/Waves: 1/);
    const who = text.indexOf('cid-ops (group, ops)');
    expect(pong).toBeGreaterThan(0);
    expect(card).toBeGreaterThan(pong);
    expect(waved).toBeGreaterThan(card);
    expect(who).toBeGreaterThan(waved);
    // The DM's `ping` went to the DM; everything after `/group ops` to the group.
    expect(sb.sim.client.botMessages('dm:alice').map((m) => m.content)).toEqual(['pong']);
    expect(sb.sim.client.botMessages('ops').length).toBeGreaterThanOrEqual(2);
  });

  it('the CLI exits 0 at the end of its input', async () => {
    sb = await createSimBot();
    // Not spawnSync: the simulator and the bot answer from this process.
    const child = spawn(
      join(ROOT, 'node_modules/.bin/tsx'),
      ['core/cli/main.ts', 'chat', '--sim', sb.sim.url, '--group', 'ops'],
      {
        cwd: ROOT,
      },
    );
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stdin.end('ping\nwhoami\n');
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(0);
    expect(stdout.indexOf('pong')).toBeGreaterThan(0);
    expect(stdout.indexOf('cid-ops')).toBeGreaterThan(stdout.indexOf('pong'));
    expect(stdout).not.toContain('alice@ops>');
  });
});

describe('dingops chat with nothing to talk to', () => {
  const collect = () => {
    const sink = { text: '' };
    const output = new Writable({
      write(chunk, _enc, cb) {
        sink.text += chunk.toString();
        cb();
      },
    });
    return { sink, output };
  };

  it('names the address and what to start when no simulator answers there', async () => {
    const { output } = collect();
    const input = new PassThrough();
    input.end('ping\n');
    const port = await freePort();
    await expect(runChat({ sim: `http://127.0.0.1:${port}`, user: 'alice', input, output })).rejects.toThrow(
      new RegExp(
        `cannot reach a simulator at http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\): start one with \`npm start\``,
      ),
    );
  });

  it('says at once when no bot is connected to the simulator, instead of waiting in silence', async () => {
    const { startSimulator } = await import('../../../simulator/index.js');
    const sim = await startSimulator({ pingIntervalMs: 0 });
    try {
      const { sink, output } = collect();
      const input = new PassThrough();
      input.end('ping\n');
      const started = Date.now();
      await runChat({ sim: sim.url, user: 'alice', input, output, replyTimeoutMs: 60_000 });
      expect(sink.text).toMatch(/no bot received it: none is connected to the simulator/);
      // Not the reply wait: said as soon as the simulator answered.
      expect(Date.now() - started).toBeLessThan(30_000);
    } finally {
      await sim.stop();
    }
  });
});

describe('the log beside the terminal chat', () => {
  it('clears the prompt line, prints the log line, and draws the prompt again', async () => {
    const { PromptSafeLog } = await import('../../../core/cli/prompt-safe-log.js');
    let screen = '';
    const out = new Writable({
      write(chunk, _enc, cb) {
        screen += chunk.toString();
        cb();
      },
    });
    const log = new PromptSafeLog(out, (line) => `LOG ${JSON.parse(line).msg}\n`);
    log.redraw = () => out.write('alice@ops> hel');
    await new Promise<void>((r) =>
      log.write(`${JSON.stringify({ level: 30, msg: 'connected' })}\n`, () => r()),
    );
    expect(screen).toBe('\r\x1b[KLOG connected\nalice@ops> hel');
  });
});
