import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { copyCheckout } from '../helpers/checkout-copy.js';
import { npmStartDemo, outsideUserTests, runAs, useScratch } from '../helpers/outside-user.js';

/**
 * A plugin author outside this repository: `npm pack` (which builds first), the tarball
 * installed into an empty project, `dingops plugin new`, then in the new plugin: `npm install`,
 * a strict type-check without skipLibCheck, its own tests on `dingops/testing` (node --test),
 * and `npm start`, a bot with the plugin answering through the simulator. It installs from
 * the registry (npm's cache first), so it runs in CI (CI=true) or with DINGOPS_TEST_PACKAGE=1.
 */
const enabled = outsideUserTests('DINGOPS_TEST_PACKAGE');
const root = resolve('.');
const scratch = useScratch();

const run = (cwd: string, cmd: string, args: string[]): string => runAs(cwd, cmd, args);

describe.runIf(enabled)('a plugin package outside this repository', () => {
  it('packs, scaffolds, type-checks strictly, passes its own tests, and runs in a bot', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dingops-author-'));
    scratch.dir = dir;
    // The README's guide, line by line, in one shell (its `cd`s carry on), beside a `dingops`
    // folder that is a copy of this repository.
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const guide = /<!-- plugin-package-guide -->\n```sh\n([\s\S]*?)```/
      .exec(readme)![1]!
      .split('\n')
      .map((l) => l.replace(/\s+#.*$/, '').trim())
      .filter(Boolean);
    expect(guide.at(-1)).toBe('npm start');
    // A copy of this checkout, not the checkout: `npm pack` builds, and a test never leaves a
    // build in the checkout (bin/dingops.js there runs the sources anyway).
    copyCheckout(join(dir, 'dingops'));
    const shell = guide
      .slice(0, -1)
      // From npm's cache where it can; the same commands otherwise.
      .map((l) => l.replace(/npm (install|ci)\b/g, 'npm $1 --prefer-offline --no-audit --no-fund'))
      .join(' && ');
    const out = run(dir, 'sh', ['-c', `set -e; ${shell}`]);
    expect(out).toContain("Created the plugin 'greeter'");
    expect(out).not.toMatch(/EBADENGINE/);
    expect(out).toMatch(/# pass 1/);
    expect(out).toMatch(/# fail 0/);
    const tarball = join(dir, readdirSync(dir).find((f) => f.endsWith('.tgz'))!);
    // What the package ships: the build, the CLI, the simulator, the test kit.
    const listing = run(dir, 'tar', ['-tzf', tarball]);
    for (const f of [
      'package/bin/dingops.js',
      'package/dist/core/index.d.ts',
      'package/dist/simulator/index.js',
      'package/dist/testing/index.d.ts',
    ])
      expect(listing).toContain(f);
    const plugin = join(dir, 'project', 'greeter');
    expect(existsSync(join(plugin, 'node_modules/dingops/dist/testing/index.js'))).toBe(true);

    // npm start: a bot with the plugin, on the embedded simulator.
    const { hint, simPort } = await npmStartDemo(scratch, plugin);
    expect(hint).toMatch(/^dingops chat --sim http/);
    const sim = `http://127.0.0.1:${simPort}/sim/api`;
    await fetch(`${sim}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ conversation: 'ops', sender: 'alice', text: 'greeter team' }),
    });
    let reply: { title?: string } | undefined;
    for (let i = 0; i < 100 && !reply; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const { messages } = (await (await fetch(`${sim}/messages?conversation=ops`)).json()) as {
        messages: Array<{ sender: string; title?: string }>;
      };
      reply = messages.find((m) => m.sender === 'bot');
    }
    expect(reply?.title).toBe('Hello, team!');
    scratch.bot?.kill('SIGTERM');
  }, 900_000);
});
