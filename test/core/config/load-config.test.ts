import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError } from '../../../core/config/config-error.js';
import { applyEnvOverrides } from '../../../core/config/env-overrides.js';
import { loadConfig } from '../../../core/config/load-config.js';
import { definePlugin } from '../../../core/plugins/define-plugin.js';
import { preparePlugins } from '../../../core/plugins/plugin-host.js';

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError)
      return e.problems.map((p) => `${p.path}: ${p.message}${p.line ? ` (line ${p.line})` : ''}`);
    throw e;
  }
  throw new Error('expected a ConfigError');
}

async function asyncProblems(fn: () => Promise<unknown>): Promise<string[]> {
  try {
    await fn();
  } catch (e) {
    if (e instanceof ConfigError)
      return e.problems.map((p) => `${p.path}: ${p.message}${p.line ? ` (line ${p.line})` : ''}`);
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('gives defaults for an empty file', () => {
    const c = loadConfig({ text: '', env: {} });
    expect(c.core.dingtalk.mode).toBe('stream');
    expect(c.core.storage.url).toBe('sqlite:./data/dingops.db');
    expect(c.core.dingtalk.limits).toEqual({ qps: 20, monthlyCalls: 10_000 });
    expect(c.core.locale).toBe('zh-CN');
  });

  it('names the path and line of a wrong value, and suggests for unknown keys', () => {
    const text = [
      'dingtalk:',
      '  clientId: x',
      '  mode: websocket',
      'server:',
      '  prot: 80',
      'loggin:',
      '  level: info',
    ].join('\n');
    expect(problems(() => loadConfig({ text, env: {} }))).toEqual([
      'dingtalk.mode: expected one of "stream"|"http" (line 3)',
      "server.prot: unknown key; did you mean 'port'? (line 5)",
      "loggin: unknown key; did you mean 'log'? (line 6)",
    ]);
  });

  it('interpolates ${VAR} and ${VAR:-default} and keeps types for bare expressions', () => {
    const text =
      'dingtalk:\n  clientId: ${ID}\n  clientSecret: "${SECRET}"\nserver:\n  port: ${PORT:-9000}\n  host: ${HOST:-0.0.0.0}\nlog:\n  level: $${literal}\n';
    const c = loadConfig({
      text: text.replace('$${literal}', 'info'),
      env: { ID: 'ding123', SECRET: 'a: b # not a comment' },
    });
    expect(c.core.dingtalk.clientId).toBe('ding123');
    expect(c.core.dingtalk.clientSecret).toBe('a: b # not a comment');
    expect(c.core.server.port).toBe(9000);
    expect(c.core.server.host).toBe('0.0.0.0');
    expect(c.secrets).toContain('a: b # not a comment');
    expect(c.literalSecretPaths).toEqual([]);
  });

  it('reports a missing variable with its line', () => {
    expect(problems(() => loadConfig({ text: 'dingtalk:\n  clientSecret: ${NOPE}\n', env: {} }))).toEqual([
      'dingtalk.clientSecret: environment variable NOPE is not set (use ${NOPE:-default} for a default) (line 2)',
    ]);
  });

  it('lets the environment override the file', () => {
    const c = loadConfig({
      text: 'server:\n  port: 1000\n',
      env: { DINGOPS_PORT: '2000', DINGTALK_CLIENT_ID: 'cid', DINGOPS_STORAGE_URL: 'sqlite::memory:' },
    });
    expect(c.core.server.port).toBe(2000);
    expect(c.core.dingtalk.clientId).toBe('cid');
    expect(c.core.dingtalk.robotCode).toBe('cid');
    expect(c.core.storage.url).toBe('sqlite::memory:');
  });

  it('flags secrets written in the file instead of coming from env', () => {
    const c = loadConfig({
      text: 'dingtalk:\n  clientId: a\n  clientSecret: plain-secret-in-file\n',
      env: {},
    });
    expect(c.literalSecretPaths).toEqual(['dingtalk.clientSecret']);
    expect(c.secrets).toContain('plain-secret-in-file');
  });

  it('reports YAML syntax errors with a line', () => {
    const p = problems(() => loadConfig({ text: 'server:\n  port: 1\n   host: x\n', env: {} }));
    expect(p[0]).toMatch(/line [23]\)$/);
  });

  it('rejects duplicate keys', () => {
    expect(problems(() => loadConfig({ text: 'locale: en\nlocale: zh-CN\n', env: {} }))[0]).toMatch(
      /unique|duplicate/i,
    );
  });

  it('validates aesKey and token shapes', () => {
    const p = problems(() => loadConfig({ text: 'dingtalk:\n  aesKey: short\n  token: "x"\n', env: {} }));
    expect(p).toEqual([
      'dingtalk.aesKey: expected the 43-character aes_key (letters and digits) from the event subscription page (line 2)',
      'dingtalk.token: expected the signature token (3-32 letters and digits) from the event subscription page (line 3)',
    ]);
  });
});

describe('plugin config slices', () => {
  const alerts = definePlugin({
    name: 'alerts',
    config: z.object({
      routes: z.array(
        z.object({
          match: z.record(z.string(), z.string(), { error: 'expected a map of label matchers' }),
          group: z.string(),
        }),
      ),
      groupWait: z.string().default('30s'),
    }),
    setup() {},
  });

  it('reports the plugin path and line, as in plugins.alerts.routes[2].match', async () => {
    const text = [
      'plugins:',
      '  alerts:',
      '    routes:',
      '      - match: { team: db }',
      '        group: ops',
      '      - match: { team: web }',
      '        group: web',
      '      - match: [team, api]',
      '        group: api',
    ].join('\n');
    const config = loadConfig({ text, env: {} });
    expect(await asyncProblems(() => preparePlugins(config, [alerts]))).toEqual([
      'plugins.alerts.routes[2].match: expected a map of label matchers (line 8)',
    ]);
  });

  it('rejects unknown keys even in non-strict plugin schemas, with did-you-mean', async () => {
    const text =
      'plugins:\n  alerts:\n    routes:\n      - match: {}\n        group: ops\n        gruop: x\n    groupWiat: 1m\n';
    const config = loadConfig({ text, env: {} });
    expect(await asyncProblems(() => preparePlugins(config, [alerts]))).toEqual([
      "plugins.alerts.routes[0].gruop: unknown key; did you mean 'group'? (line 6)",
      "plugins.alerts.groupWiat: unknown key; did you mean 'groupWait'? (line 7)",
    ]);
  });

  it('keeps loader keys out of the plugin slice', async () => {
    const config = loadConfig({ text: 'plugins:\n  alerts:\n    required: true\n    routes: []\n', env: {} });
    const [p] = await preparePlugins(config, [alerts]);
    expect(p!.config).toEqual({ routes: [], groupWait: '30s' });
    expect(p!.entry.required).toBe(true);
  });

  it('reports a plugin that cannot be found', async () => {
    const config = loadConfig({ text: 'plugins:\n  nosuch: {}\n', env: {} });
    const p = await asyncProblems(() => preparePlugins(config));
    expect(p[0]).toMatch(/^plugins\.nosuch: no built-in plugin 'nosuch'.*\(line 2\)$/);
  });
});

describe('environment overrides for a simulator', () => {
  it('points both DingTalk hosts at DINGTALK_API_BASE unless DINGTALK_OAPI_BASE is set', () => {
    const c = loadConfig({ text: '', env: { DINGTALK_API_BASE: 'http://127.0.0.1:4010' } });
    expect([c.core.dingtalk.apiBase, c.core.dingtalk.oapiBase]).toEqual([
      'http://127.0.0.1:4010',
      'http://127.0.0.1:4010',
    ]);
    const d = loadConfig({
      text: '',
      env: { DINGTALK_API_BASE: 'http://a:1', DINGTALK_OAPI_BASE: 'http://b:2' },
    });
    expect([d.core.dingtalk.apiBase, d.core.dingtalk.oapiBase]).toEqual(['http://a:1', 'http://b:2']);
  });

  it('says the legacy host came from DINGTALK_API_BASE when only that was set (config check)', () => {
    const applied = applyEnvOverrides({}, { DINGTALK_API_BASE: 'http://127.0.0.1:4010' });
    expect(applied).toEqual({
      'dingtalk.apiBase': 'DINGTALK_API_BASE',
      'dingtalk.oapiBase': 'DINGTALK_API_BASE',
    });
    expect(
      applyEnvOverrides({}, { DINGTALK_API_BASE: 'http://a:1', DINGTALK_OAPI_BASE: 'http://b:2' }),
    ).toEqual({
      'dingtalk.apiBase': 'DINGTALK_API_BASE',
      'dingtalk.oapiBase': 'DINGTALK_OAPI_BASE',
    });
  });
});
