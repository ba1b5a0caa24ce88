import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { npmStartDemo, outsideUserTests, runAs, useScratch } from '../helpers/outside-user.js';

/**
 * The README's newcomer path, walked as a newcomer would, in a fresh clone of this
 * repository: `npm ci`, `npm start` (demo mode, no credentials), the chat it points to,
 * the README's `curl` to the generic alert webhook, and `config check` of the shipped
 * config. It installs from the registry (npm's cache first), so it runs in CI (CI=true) or
 * with DINGOPS_TEST_NEWCOMER=1.
 */
const enabled = outsideUserTests('DINGOPS_TEST_NEWCOMER');
const root = resolve('.');
const scratch = useScratch();

/** Runs a command in the clone, as the newcomer (their alert token set for the webhook). */
const run = (cmd: string, args: string[], input?: string): string =>
  runAs(scratch.dir!, cmd, args, { input, env: { ALERTS_TOKEN: 'newcomer-token-0123456789' } });

describe.runIf(enabled)("the README's newcomer path, in a fresh clone", () => {
  it('npm ci, npm start (demo), chat, a webhook with curl, config check', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dingops-newcomer-'));
    scratch.dir = dir;
    execFileSync('git', ['clone', '--quiet', root, dir]);
    const readme = readFileSync(join(dir, 'README.md'), 'utf8');
    expect(readme).toContain('npm ci && npm start');
    const install = run('npm', ['ci', '--no-audit', '--no-fund', '--prefer-offline']);
    expect(install).not.toMatch(/EBADENGINE/);

    // The alerts example of the README, on: the generic source reads its token from the environment.
    writeFileSync(
      join(dir, 'newcomer.yaml'),
      `${readFileSync(join(dir, 'bot.config.yaml'), 'utf8')}  alerts:\n    sources:\n      generic: { token: \${ALERTS_TOKEN} }\n    defaultRoute: { groups: [cid-ops] }\n`,
    );
    // `npm start` without a terminal says how to open the chat.
    const started = await npmStartDemo(scratch, dir, ['--config', 'newcomer.yaml'], {
      ALERTS_TOKEN: 'newcomer-token-0123456789',
    });
    const hint = /^(npm run dingops -- chat --sim (\S+))$/.exec(started.hint);
    expect(hint, started.output()).not.toBeNull();
    const port = started.port;
    const chat = run(
      'npm',
      ['run', '--silent', 'dingops', '--', 'chat', '--sim', hint![2]!],
      'help\nping\n/group ops\nhello team\n',
    );
    expect(chat).toContain('pong');
    expect(chat).toContain('Hello, team!');

    // The README's curl, as printed there, with the newcomer's token and port.
    const curl = /```sh\n\s*(curl -X POST[\s\S]*?)\n\s*#/
      .exec(readme.replace(/^ {2}/gm, ''))![1]!
      .replace(/\\\n\s*/g, ' ')
      .replace('127.0.0.1:8080', `127.0.0.1:${port}`);
    const answer = run('sh', ['-c', curl], undefined);
    expect(JSON.parse(answer)).toMatchObject({ status: 'ok', accepted: 1 });

    const check = run('npm', ['run', '--silent', 'dingops', '--', 'config', 'check']);
    expect(check).toMatch(/bot\.config\.yaml: OK/);
    scratch.bot?.kill('SIGTERM');
  }, 900_000);
});
