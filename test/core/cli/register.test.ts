import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { register } from '../../../core/cli/register.js';
import { loadConfig } from '../../../core/config/load-config.js';
import { startSimulator } from '../../../simulator/index.js';
import { createSimBot, type SimBot, TEST_AES_KEY, TEST_TOKEN } from '../../helpers/sim-bot.js';

let sb: SimBot | undefined;
afterEach(async () => {
  await sb?.stop();
  sb = undefined;
});

async function run(yaml: string): Promise<{ code: number; text: string }> {
  const file = join(mkdtempSync(join(tmpdir(), 'dingops-register-')), 'bot.config.yaml');
  writeFileSync(file, yaml);
  const lines: string[] = [];
  const code = await register(['--config', file], (l) => lines.push(l));
  return { code, text: lines.join('\n') };
}

function httpYaml(s: SimBot, secret = 'dingops-demo-secret', token = TEST_TOKEN): string {
  return `dingtalk:\n  clientId: dingops-demo\n  clientSecret: ${secret}\n  mode: http\n  aesKey: ${TEST_AES_KEY}\n  token: ${token}\n  apiBase: ${s.sim.url}\n  oapiBase: ${s.sim.url}\nserver:\n  publicUrl: ${s.publicUrl}\n`;
}

describe('dingops register', () => {
  it('HTTP mode: prints the URLs to paste and says Registered once both answer like DingTalk expects', async () => {
    sb = await createSimBot({ mode: 'http' });
    const ok = await run(httpYaml(sb));
    expect(ok.code).toBe(0);
    expect(ok.text).toContain(
      `Robot message URL (机器人配置 > 消息接收模式: HTTP 模式 > 消息接收地址): ${sb.publicUrl}/dingtalk/robot`,
    );
    expect(ok.text).toContain(
      `Event subscription URL (事件订阅 > 推送方式: HTTP 推送 > 请求网址): ${sb.publicUrl}/dingtalk/events`,
    );
    expect(ok.text).toMatch(/^Registered: /m);

    const wrongSecret = await run(httpYaml(sb, 'another-secret'));
    expect(wrongSecret.code).toBe(1);
    expect(wrongSecret.text).toContain('✗ robot message URL: the bot refused the signature');
    expect(wrongSecret.text).not.toContain('another-secret');
    const wrongToken = await run(httpYaml(sb, 'dingops-demo-secret', 'othertoken'));
    expect(wrongToken.text).toMatch(/✗ event subscription URL: HTTP 401/);
    expect(wrongToken.text).toContain('Not registered yet');
  });

  it('HTTP mode: says when nothing answers at the public URL', async () => {
    sb = await createSimBot({ mode: 'http' });
    await sb.bot.stop('test');
    const r = await run(httpYaml(sb));
    expect(r.code).toBe(1);
    expect(r.text).toMatch(/✗ robot message URL: not reachable \(\w+\); is the bot running/);
  });

  it('Stream mode: Connected when the gateway accepts the credentials, the reason when not', async () => {
    const sim = await startSimulator({ pingIntervalMs: 0 });
    try {
      const yaml = (secret: string) =>
        `dingtalk:\n  clientId: dingops-demo\n  clientSecret: ${secret}\n  apiBase: ${sim.url}\n  oapiBase: ${sim.url}\n`;
      const ok = await run(yaml('dingops-demo-secret'));
      expect(ok.code).toBe(0);
      expect(ok.text).toMatch(/^Connected: DingTalk's gateway accepted the credentials of dingops-demo/);
      const bad = await run(yaml('wrong'));
      expect(bad.code).toBe(1);
      expect(bad.text).toMatch(/^Not connected: gateway 4\d\d/);
    } finally {
      await sim.stop();
    }
  });
});

describe('HTTP mode config', () => {
  const base = 'dingtalk:\n  clientId: a\n  clientSecret: b\n  mode: http\n';
  it('refuses a public URL DingTalk cannot call, and explains', () => {
    expect(() =>
      loadConfig({ text: `${base}server:\n  publicUrl: http://bot.example.com\n`, env: {} }),
    ).toThrow(/server\.publicUrl.*only delivers callbacks to https.*https:\/\/bot\.example\.com/s);
    expect(() => loadConfig({ text: base, env: {} })).toThrow(/needs server\.publicUrl/);
  });

  it('accepts https, and plain http on loopback (the simulator)', () => {
    for (const url of ['https://bot.example.com', 'http://127.0.0.1:8080', 'http://localhost:8080'])
      expect(
        loadConfig({ text: `${base}server:\n  publicUrl: ${url}\n`, env: {} }).core.server.publicUrl,
      ).toBe(url);
  });
});
