import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config/load-config.js';
import { formatOrigins, valueOrigins } from '../../core/config/provenance.js';
import { imageEnv as dockerImageEnv, productionEnv } from '../helpers/production-flags.js';
import { storeIndependentPass } from '../helpers/storage.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const DOCKERFILE = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');

const imageEnv = () => dockerImageEnv(ROOT);

describe.runIf(storeIndependentPass)('the container image', () => {
  it('sets no config value in its environment: its defaults are its config file', () => {
    const env = imageEnv();
    // Besides the process's own tuning (the allocator's arenas), only where the config is.
    const tuning = Object.keys(productionEnv(ROOT));
    expect(tuning).toEqual(['MALLOC_ARENA_MAX']);
    expect(
      Object.keys(env)
        .filter((k) => !tuning.includes(k))
        .sort(),
    ).toEqual(['DINGOPS_CONFIG', 'NODE_ENV']);
    expect(DOCKERFILE).toMatch(/COPY deploy\/bot\.config\.yaml \/config\/bot\.config\.yaml/);
    const config = loadConfig({ file: join(ROOT, 'deploy/bot.config.yaml'), env });
    expect(config.core.server).toMatchObject({ host: '0.0.0.0', port: 8080 });
    expect(config.core.storage.url).toBe('sqlite:/data/dingops.db');
  });

  it("an operator's mounted config means what it says, and config check says where each value came from", () => {
    const dir = mkdtempSync(join(tmpdir(), 'dingops-mounted-'));
    const file = join(dir, 'bot.config.yaml');
    writeFileSync(file, 'server:\n  port: 9000\nstorage:\n  url: postgres://bot:pw@db:5432/dingops\n');
    const config = loadConfig({ file, env: imageEnv() });
    expect(config.core.storage.url).toBe('postgres://bot:pw@db:5432/dingops');
    const origins = valueOrigins(config);
    expect(origins.find((o) => o.path === 'storage.url')).toEqual({
      path: 'storage.url',
      value: 'postgres://bot:***@db:5432/dingops',
      from: `${file}:4`,
    });
    expect(origins.find((o) => o.path === 'server.host')?.from).toBe('default');
    // An environment override is named as such.
    const overridden = loadConfig({ file, env: { ...imageEnv(), DINGOPS_PORT: '9100' } });
    expect(valueOrigins(overridden).find((o) => o.path === 'server.port')).toMatchObject({
      value: '9100',
      from: 'env DINGOPS_PORT',
    });
    expect(formatOrigins(valueOrigins(overridden))).not.toContain(':pw@');
  });
});

describe.runIf(storeIndependentPass)('the CLI helps', () => {
  it('every command answers --help with its usage and exit 0, doing nothing else', () => {
    for (const cmd of ['start', 'register', 'sim', 'chat', 'doctor', 'config']) {
      const args = cmd === 'config' ? ['config', 'check', '--help'] : [cmd, '--help'];
      const r = spawnSync(join(ROOT, 'node_modules/.bin/tsx'), ['core/cli/main.ts', ...args], {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(r.status, cmd).toBe(0);
      expect(r.stdout, cmd).toMatch(new RegExp(`^Usage: dingops ${cmd}`));
      expect(r.stdout, cmd).not.toMatch(/OK \(mode|invalid configuration/);
    }
  }, 90_000); // six tsx start-ups in a row: seconds each when the machine is busy

  it('`npx dingops` in a source checkout runs the sources (no build needed)', () => {
    const r = spawnSync('node', [join(ROOT, 'bin/dingops.js'), 'help'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('dingops start');
  });
});
