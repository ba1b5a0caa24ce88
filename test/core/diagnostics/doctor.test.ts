import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { doctor } from '../../../core/cli/doctor.js';
import type { OpenApiClient } from '../../../core/deliver/openapi/openapi-client.js';
import { OpenApiToken } from '../../../core/deliver/openapi/openapi-client.js';
import type { CheckResult, Diagnostics } from '../../../core/diagnostics/diagnostics.js';
import { DiagnosticsToken } from '../../../core/diagnostics/diagnostics.js';
import { GroupsToken } from '../../../core/directory/group-registry.js';
import { definePlugin } from '../../../core/plugins/define-plugin.js';
import { startSimulator } from '../../../simulator/index.js';
import { createSimBot, type SimBot } from '../../helpers/sim-bot.js';
import { persistentTestStorageUrl } from '../../helpers/storage.js';

let sb: SimBot | undefined;
afterEach(async () => {
  await sb?.stop();
  sb = undefined;
});

const PEOPLE =
  'people:\n  - { name: Bob, mobile: "13800000002" }\n  - { name: Dave, mobile: "13900000009" }\n';

async function run(s: SimBot, only?: string[]): Promise<CheckResult[]> {
  return s.bot.resolve<Diagnostics>(DiagnosticsToken).run({ only, fresh: true });
}
const find = (r: CheckResult[], id: string) => r.find((x) => x.id === id);

/** What `doctor` printed. */
function capture() {
  const chunks: string[] = [];
  return {
    out: (t: string) => {
      chunks.push(t);
    },
    text: () => chunks.join(''),
  };
}

describe('doctor, through the simulator', () => {
  it('names a wrong client secret, and tells it from network trouble', async () => {
    sb = await createSimBot();
    expect(find(await run(sb, ['credentials']), 'credentials')).toMatchObject({ severity: 'ok' });
    sb.sim.client.state.org.apps[0]!.clientSecret = 'rotated-in-the-console';
    const wrong = find(await run(sb, ['credentials']), 'credentials')!;
    expect(wrong.severity).toBe('error');
    expect(wrong.message).toBe(
      'DingTalk refused the credentials (invalidClientIdOrSecret): wrong clientId or clientSecret',
    );
    expect(wrong.fix).toMatch(/copy Client ID and Client Secret again/);
    await sb.sim.stop();
    const down = find(await run(sb, ['credentials']), 'credentials')!;
    expect(down).toMatchObject({ severity: 'error', where: 'dingtalk.apiBase' });
    expect(down.message).toMatch(
      /^cannot reach 127\.0\.0\.1:\d+: (ECONNREFUSED|UND_ERR_SOCKET \(other side closed\))$/,
    );
  });

  it('lists a permission the app was not granted, by scope and by who needs it', async () => {
    sb = await createSimBot();
    const app = sb.sim.client.state.org.apps[0]!;
    app.scopes = app.scopes.filter((s) => s !== 'qyapi_chat_base_read');
    const r = await run(sb, ['permissions']);
    expect(find(r, 'permissions.qyapi_robot_sendmsg')?.severity).toBe('ok');
    const missing = find(r, 'permissions.qyapi_chat_base_read')!;
    expect(missing).toMatchObject({
      severity: 'error',
      message: 'qyapi_chat_base_read is not granted (needed by core)',
    });
    expect(missing.fix).toBe(
      'developer console > 权限管理: search qyapi_chat_base_read, apply, then publish a new version',
    );
  });

  it('without a harmless probe, goes by the scopes DingTalk reported missing at runtime', async () => {
    const plugin = definePlugin({
      name: 'probe',
      permissions: { 'Contact.User.Read': 'read people' },
      setup() {},
    });
    sb = await createSimBot({ plugins: [plugin] });
    const before = find(await run(sb, ['permissions']), 'permissions.Contact.User.Read')!;
    expect(before).toMatchObject({ severity: 'ok', message: expect.stringContaining('no harmless probe') });
    sb.bot.resolve<OpenApiClient>(OpenApiToken).onMissingScopes('contact/users/get', ['Contact.User.Read']);
    expect(find(await run(sb, ['permissions']), 'permissions.Contact.User.Read')).toMatchObject({
      severity: 'error',
      message:
        'Contact.User.Read is not granted: DingTalk refused contact/users/get for it (needed by probe)',
    });
  });

  it('says when the gateway refuses the app (unpublished) and when it is down', async () => {
    sb = await createSimBot();
    expect(find(await run(sb, ['connection']), 'connection.gateway')?.severity).toBe('ok');
    expect(find(await run(sb, ['connection']), 'connection.stream')?.message).toMatch(
      /^stream: connected, last frame \d+ s ago$/,
    );
    sb.sim.client.state.org.apps[0]!.published = false;
    const refused = find(await run(sb, ['connection']), 'connection.gateway')!;
    expect(refused.severity).toBe('error');
    expect(refused.message).toMatch(/refused the app \(HTTP 4\d\d/);
    expect(refused.fix).toMatch(/publish the app/);
    sb.sim.client.state.org.apps[0]!.published = true;
    sb.sim.client.api.setFaults({ refuseGateway: true });
    expect(find(await run(sb, ['connection']), 'connection.gateway')?.severity).toBe('warn');
  });

  it('warns while no group has the app installed, and counts them once one has', async () => {
    sb = await createSimBot();
    const none = find(await run(sb, ['groups']), 'groups')!;
    expect(none.severity).toBe('warn');
    expect(none.fix).toMatch(/add the app/);
    await sb.sim.client.api.groupChange('ops', 'install', {});
    await sb.sim.client.until(
      () => sb!.bot.resolve(GroupsToken).list().length > 0,
      3000,
      'the install event',
    );
    expect(find(await run(sb, ['groups']), 'groups')).toMatchObject({
      severity: 'ok',
      message: 'the app is in 1 group(s): ops',
    });
  });

  it('names each person who does not resolve to a DingTalk user (app not linked)', async () => {
    sb = await createSimBot({ yaml: PEOPLE });
    const r = await run(sb, ['people']);
    expect(find(r, 'people.Bob')).toMatchObject({ severity: 'ok', message: 'Bob: DingTalk user bob' });
    expect(find(r, 'people.Dave')).toMatchObject({
      severity: 'error',
      message:
        "Dave: nobody in the organisation has mobile 13900000009 (not linked to the app's organisation)",
    });
  });

  it('tells the monthly quota, and errors when it is nearly used up', async () => {
    sb = await createSimBot({ dingtalk: '  limits: { monthlyCalls: 10 }\n' });
    // Each permission probe is a metered call: three per run of the core's permissions.
    const quota = async () => find(await run(sb!, ['quota']), 'quota')!;
    expect((await quota()).severity).toBe('ok');
    await run(sb, ['permissions']);
    await run(sb, ['permissions']);
    // 6 calls, about 8 by month end: still fine.
    expect((await quota()).message).toMatch(/^6 of 10 API calls this month \(60%\)/);
    await run(sb, ['permissions']);
    await run(sb, ['permissions']);
    // Past 80 % (the admins are told, which costs calls too), then past 95 %.
    const q = await quota();
    expect(q.severity).toBe('error');
    expect(q.message).toMatch(/^the monthly API quota is nearly used up: 1\d of 10/);
    expect(q.where).toMatch(/dingtalk\.limits\.monthlyCalls/);
  });

  it('flags a plain-http public URL in HTTP mode, and checks it answers', async () => {
    sb = await createSimBot({ mode: 'http' });
    const r = await run(sb, ['connection']);
    expect(find(r, 'connection.publicUrl')).toMatchObject({ severity: 'warn', where: 'server.publicUrl' });
    expect(find(r, 'connection.publicUrl')?.fix).toMatch(/TLS-terminating proxy/);
    expect(find(r, 'connection.reachable')?.severity).toBe('ok');
    expect(find(r, 'connection.http')?.message).toMatch(/^http: registered/);
  });

  it('is for admins in chat', async () => {
    sb = await createSimBot({ yaml: PEOPLE });
    expect((await sb.sim.client.as('bob').ask('doctor')).content).toMatch(/not allowed|permission/i);
    const card = await sb.sim.client.as('alice').ask('doctor people');
    expect(card.title).toBe('Doctor: 1 error(s), 0 warning(s)');
    expect(card.content).toContain('❌ `people.Dave`');
  });
});

describe('dingops doctor', () => {
  it('runs the core checks itself when no bot is running, with exit code and JSON', async () => {
    const sim = await startSimulator({ pingIntervalMs: 0 });
    const dir = mkdtempSync(join(tmpdir(), 'dingops-doctor-'));
    const file = join(dir, 'bot.config.yaml');
    writeFileSync(
      file,
      `locale: en\ndingtalk:\n  clientId: dingops-demo\n  clientSecret: \${SECRET}\n  apiBase: ${sim.url}\n  oapiBase: ${sim.url}\nserver:\n  port: 1\nstorage:\n  url: ${persistentTestStorageUrl()}\naccess:\n  admins: [alice]\n${PEOPLE}`,
    );
    process.env.SECRET = 'dingops-demo-secret';
    try {
      const json = capture();
      const code = await doctor(['--config', file, '--json', '--fresh'], json.out);
      const report = JSON.parse(json.text()) as { exitCode: number; checks: CheckResult[] };
      expect(code).toBe(2);
      expect(report.exitCode).toBe(2);
      expect(find(report.checks, 'credentials')?.severity).toBe('ok');
      // The test PostgreSQL's password is `dingops`: a word, which doctor says.
      const security = report.checks.filter((c) => c.id.startsWith('security'));
      expect(security.map((c) => [c.id, c.severity])).toEqual(
        process.env.DINGOPS_TEST_STORAGE === 'postgres'
          ? [['security.shortSecrets', 'warn']]
          : [['security', 'ok']],
      );
      expect(find(report.checks, 'people.Dave')?.severity).toBe('error');
      expect(find(report.checks, 'connection.state')?.message).toMatch(/checked in the running bot/);
      const text = capture();
      expect(await doctor(['--config', file, '--only', 'credentials,config'], text.out)).toBe(0);
      expect(text.text()).toMatch(/^\[✓\] config {2}valid/);
      expect(text.text()).toContain('Everything checked is fine.');
    } finally {
      delete process.env.SECRET;
      await sim.stop();
    }
  });

  it('asks the running bot when there is one (its connection and plugin checks included)', async () => {
    sb = await createSimBot({ mode: 'http' });
    const port = new URL(sb.publicUrl).port;
    const dir = mkdtempSync(join(tmpdir(), 'dingops-doctor-'));
    const file = join(dir, 'bot.config.yaml');
    // The bot's own config: the CLI derives the token /doctor wants from its app secret.
    writeFileSync(
      file,
      `dingtalk:\n  clientId: dingops-demo\n  clientSecret: dingops-demo-secret\n  apiBase: ${sb.sim.url}\n  oapiBase: ${sb.sim.url}\nserver:\n  port: ${port}\n`,
    );
    const json = capture();
    await doctor(['--config', file, '--json', '--only', 'connection'], json.out);
    const ids = (JSON.parse(json.text()) as { checks: CheckResult[] }).checks.map((c) => c.id);
    expect(ids).toContain('connection.http');
    // Anything else that reaches loopback (a same-host proxy, another local program) gets
    // nothing, and spends no DingTalk call.
    const callsBefore = sb.sim.client.api.calls().calls.length;
    for (const headers of [{}, { 'x-dingops-doctor-token': 'guess' }] as Array<Record<string, string>>) {
      const r = await fetch(`http://127.0.0.1:${port}/doctor?fresh=1`, { headers });
      expect(r.status).toBe(401);
      expect(await r.text()).toMatch(/x-dingops-doctor-token/);
    }
    expect(sb.sim.client.api.calls().calls.length).toBe(callsBefore);
    // Not through a proxy on this machine, which would publish it.
    const proxied = await fetch(`http://127.0.0.1:${port}/doctor`, {
      headers: { 'x-forwarded-for': '203.0.113.9' },
    });
    expect(proxied.status).toBe(403);
  });

  it('reports an invalid config file as the config check, exit 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dingops-doctor-'));
    const file = join(dir, 'bot.config.yaml');
    writeFileSync(file, 'dingtalk:\n  mode: carrier-pigeon\n');
    const text = capture();
    expect(await doctor(['--config', file], text.out)).toBe(2);
    expect(text.text()).toMatch(/^\[✗\] config {2}.*invalid configuration/s);
    expect(text.text()).toContain('dingtalk.mode');
  });
});
