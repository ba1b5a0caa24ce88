import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { copyCheckout } from '../helpers/checkout-copy.js';
import { productionEnv, productionNodeFlags } from '../helpers/production-flags.js';

/**
 * Reproduces the Dockerfile's runtime stage without Docker: build, then a production-only
 * install (`npm ci --omit=dev`) of the package in a fresh folder, start it with
 * `node dist/core/cli/main.js start`, and ask /healthz. This catches runtime imports of
 * dev dependencies and files missing from the build. It installs from the registry and
 * builds better-sqlite3, so it runs in CI (CI=true) or with DINGOPS_TEST_PRODUCTION=1.
 */
const enabled =
  (process.env.CI === 'true' || process.env.DINGOPS_TEST_PRODUCTION === '1') &&
  process.env.DINGOPS_TEST_STORAGE !== 'postgres';
const root = resolve('.');
/** The README's container section states this bound on the production node_modules. */
const PRODUCTION_MODULES_MB = 60;
let dir: string | undefined;
let checkout: string | undefined;
let child: ChildProcess | undefined;

afterAll(() => {
  child?.kill('SIGKILL');
  for (const d of [dir, checkout]) if (d) rmSync(d, { recursive: true, force: true });
});

describe.runIf(enabled)('production install (the Docker image, without Docker)', () => {
  it('builds, installs without dev dependencies, starts and answers /healthz, then stops on SIGTERM', async () => {
    // Built in a copy of the checkout (a test never builds into the checkout), over the
    // leftovers of an earlier build: `npm run build` starts from an empty dist/.
    checkout = copyCheckout();
    mkdirSync(join(checkout, 'dist/core/chunks'), { recursive: true });
    writeFileSync(join(checkout, 'dist/core/chunks/removed-module-OLD.js'), 'export {};\n');
    execFileSync('npm', ['run', 'build'], { cwd: checkout, stdio: 'pipe', timeout: 180_000 });
    expect(existsSync(join(checkout, 'dist/core/chunks/removed-module-OLD.js'))).toBe(false);
    dir = mkdtempSync(join(tmpdir(), 'dingops-prod-'));
    for (const f of ['package.json', 'package-lock.json', 'bot.config.yaml'])
      cpSync(join(checkout, f), join(dir, f));
    cpSync(join(checkout, 'dist'), join(dir, 'dist'), { recursive: true });
    cpSync(join(checkout, 'bin'), join(dir, 'bin'), { recursive: true });
    const install = execFileSync('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline'], {
      cwd: dir,
      encoding: 'utf8',
      stdio: 'pipe',
      timeout: 600_000,
    });
    // A clean install prints no engine warning (EBADENGINE) on the Node floor.
    expect(install).not.toMatch(/EBADENGINE/);
    execFileSync('node', [join(root, 'deploy/slim-node-modules.mjs'), join(dir, 'node_modules')]);
    // No compiler or TypeScript runtime in what ships, and the size the README states.
    for (const devOnly of ['typescript', 'tsx', 'esbuild', '@esbuild', 'vitest', '@biomejs'])
      expect(existsSync(join(dir, 'node_modules', devOnly)), devOnly).toBe(false);
    expect(existsSync(join(dir, 'node_modules/better-sqlite3/deps'))).toBe(false);
    const mb = Number(
      execFileSync('du', ['-sm', join(dir, 'node_modules')], { encoding: 'utf8' }).split('\t')[0],
    );
    console.log(`production node_modules: ${mb} MB`);
    expect(mb).toBeLessThanOrEqual(PRODUCTION_MODULES_MB);
    writeFileSync(
      join(dir, 'prod.yaml'),
      'server:\n  port: 0\nstorage:\n  url: sqlite:/tmp/placeholder.db\nplugins:\n  hello: {}\n',
    );
    const port = 18000 + Math.floor(Math.random() * 2000);
    const env = {
      ...process.env,
      DINGTALK_CLIENT_ID: '',
      DINGTALK_CLIENT_SECRET: '',
      DINGOPS_PORT: String(port),
      DINGOPS_STORAGE_URL: `sqlite:${join(dir, 'data', 'db.sqlite')}`,
      DINGOPS_LOG_LEVEL: 'info',
      NODE_ENV: 'production',
      ...productionEnv(root),
    };
    // The image's command without credentials: it refuses, and says what to set.
    // The image's command, with its node flags.
    const node = productionNodeFlags(root);
    const refused = spawnSync('node', [...node, 'dist/core/cli/main.js', 'start', '--config', 'prod.yaml'], {
      cwd: dir,
      env,
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('DINGTALK_CLIENT_ID and DINGTALK_CLIENT_SECRET');
    expect(refused.stderr).toContain('dingops start --demo');
    // Asked for explicitly, the demo runs on the embedded simulator.
    child = spawn('node', [...node, 'dist/core/cli/main.js', 'start', '--demo', '--config', 'prod.yaml'], {
      cwd: dir,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    let health: Response | undefined;
    for (let i = 0; i < 100 && !health; i++) {
      await new Promise((r) => setTimeout(r, 200));
      health = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
      if (child.exitCode !== null) break;
    }
    expect(health?.status, output).toBe(200);
    expect(await health!.json()).toEqual({ status: 'ok' });
    const ready = (await (await fetch(`http://127.0.0.1:${port}/readyz`)).json()) as {
      checks: Array<{ name: string; detail: string }>;
    };
    expect(ready.checks.find((c) => c.name === 'mode')?.detail).toMatch(/^demo \(simulator/);
    expect(output).toContain('Talk to it with: dingops chat --sim http');
    // The sandbox page comes from the build itself (its files are bundled, not read from disk).
    const sandbox = /open (http:\/\/127\.0\.0\.1:\d+)\/ in a browser/.exec(output)?.[1];
    expect(sandbox, output).toBeDefined();
    const pageRes = await fetch(`${sandbox}/`);
    expect(pageRes.headers.get('content-type')).toContain('text/html');
    expect(await pageRes.text()).toContain('/sandbox/sandbox.js');
    const script = await fetch(`${sandbox}/sandbox/cards.js`);
    expect(script.status).toBe(200);
    expect(await script.text()).toContain('renderMessage');
    const exited = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output).toContain('stopped');
  }, 900_000);
});
