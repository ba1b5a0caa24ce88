import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../core/config/load-config.js';
import { preparePlugins } from '../../core/plugins/plugin-host.js';

const ROOT = new URL('../../', import.meta.url).pathname;

interface Service {
  build?: { context: string };
  image?: string;
  command?: unknown;
  entrypoint?: unknown;
  environment?: Record<string, string>;
  volumes?: string[];
}

const compose = parse(readFileSync(join(ROOT, 'deploy/compose.yaml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
};
const bots = Object.entries(compose.services).filter(([name]) => name.startsWith('bot-'));

describe('deploy/compose.yaml (several replicas)', () => {
  it('runs two replicas of the one image, with its own command and one config file', () => {
    expect(bots.map(([name]) => name)).toEqual(['bot-1', 'bot-2']);
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^CMD \["node", ("--[a-z-]+=\d+", )*"dist\/core\/cli\/main\.js", "start"\]$/m);
    const configPath = /^ENV[\s\S]*?DINGOPS_CONFIG=(\S+)/m.exec(dockerfile)?.[1];
    for (const [, s] of bots) {
      expect(s.build?.context).toBe('..');
      expect(s.image).toBe('dingops');
      // The image's command: a compose override would run something else than what is tested.
      expect(s.command).toBeUndefined();
      expect(s.entrypoint).toBeUndefined();
      expect(s.volumes).toContain(`./replicas.config.yaml:${configPath}:ro`);
    }
  });

  it('gives every replica a config the schema accepts, on the compose PostgreSQL', async () => {
    const [, bot] = bots[0] ?? [];
    // The environment compose passes, with the values an operator would set.
    const env = Object.fromEntries(
      Object.entries(bot?.environment ?? {}).map(([k]) => [
        k,
        k === 'POSTGRES_PASSWORD' ? 'pw' : `test-${k}`,
      ]),
    );
    const config = loadConfig({ file: join(ROOT, 'deploy/replicas.config.yaml'), env });
    const url = new URL(config.core.storage.url);
    expect(url.protocol).toBe('postgres:');
    expect(compose.services[url.hostname]).toBeDefined();
    expect(url.password).toBe('pw');
    // The plugins' own schemas too (what the bot checks at start).
    const plugins = await preparePlugins(config);
    expect(plugins.map((p) => p.def.name)).toContain('alerts');
  });

  it('points the Alertmanager at both replicas, at a source the config declares', () => {
    const am = parse(readFileSync(join(ROOT, 'deploy/alertmanager.yml'), 'utf8')) as {
      receivers: Array<{ webhook_configs: Array<{ url: string }> }>;
    };
    const urls = am.receivers.flatMap((r) => r.webhook_configs.map((w) => new URL(w.url)));
    expect(urls.map((u) => u.hostname).sort()).toEqual(['bot-1', 'bot-2']);
    const config = loadConfig({
      file: join(ROOT, 'deploy/replicas.config.yaml'),
      env: {
        DINGTALK_CLIENT_ID: 'x',
        DINGTALK_CLIENT_SECRET: 'y',
        ALERTMANAGER_TOKEN: 't',
        ALERTS_GROUP: 'cid-alerts',
        POSTGRES_PASSWORD: 'p',
      },
    });
    for (const u of urls) {
      expect(Number(u.port)).toBe(config.core.server.port);
      const source = /^\/alerts\/([\w-]+)$/.exec(u.pathname)?.[1] ?? '';
      const alerts = config.plugins.find((p) => p.name === 'alerts')?.raw as
        | { sources?: Record<string, unknown> }
        | undefined;
      expect(Object.keys(alerts?.sources ?? {})).toContain(source);
    }
  });
});
