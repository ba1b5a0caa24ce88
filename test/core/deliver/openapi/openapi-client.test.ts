import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DingTalkApiError } from '../../../../core/deliver/openapi/api-error.js';
import { OpenApiClient } from '../../../../core/deliver/openapi/openapi-client.js';
import { type RunningSimulator, startSimulator } from '../../../../simulator/index.js';

let sim: RunningSimulator;
let api: OpenApiClient;
beforeEach(async () => {
  sim = await startSimulator({ pingIntervalMs: 0 });
  api = new OpenApiClient(
    {
      clientId: 'dingops-demo',
      clientSecret: 'dingops-demo-secret',
      robotCode: 'dingops-demo',
      apiBase: sim.url,
      oapiBase: sim.url,
      qps: 20,
      throttleBaseMs: 5,
    },
    pino({ level: 'silent' }),
  );
});
afterEach(async () => sim.stop());

const tokenCalls = () => sim.state.calls.filter((c) => c.path === '/v1.0/oauth2/accessToken').length;

describe('OpenApiClient', () => {
  it('fetches one token for concurrent calls and reuses it', async () => {
    await Promise.all([
      api.sendGroupMessage('cid-ops', 'sampleText', { content: 'a' }),
      api.sendGroupMessage('cid-ops', 'sampleText', { content: 'b' }),
    ]);
    await api.sendGroupMessage('cid-ops', 'sampleText', { content: 'c' });
    expect(tokenCalls()).toBe(1);
  });

  it('refreshes the token once when DingTalk rejects it', async () => {
    await api.sendGroupMessage('cid-ops', 'sampleText', { content: 'a' });
    sim.state.tokens.clear();
    await api.sendGroupMessage('cid-ops', 'sampleText', { content: 'b' });
    expect(tokenCalls()).toBe(2);
    expect(sim.client.botMessages('ops').map((m) => m.content)).toEqual(['a', 'b']);
  });

  it('classifies errors so callers know what to do', async () => {
    const kind = async (p: Promise<unknown>) =>
      (await p.then(
        () => undefined,
        (e: DingTalkApiError) => e,
      )) as DingTalkApiError;
    await sim.client.api.updateApp('dingops-demo', { scopes: [] });
    const perm = await kind(api.sendGroupMessage('cid-ops', 'sampleText', { content: 'a' }));
    expect([perm.kind, perm.requiredScopes]).toEqual(['permission', ['qyapi_robot_sendmsg']]);
    await sim.client.api.updateApp('dingops-demo', {
      scopes: ['qyapi_robot_sendmsg', 'qyapi_get_member_by_mobile'],
    });
    // Throttled past the client's own retries (two): the caller sees it.
    sim.client.api.setFaults({ throttleNext: 3 });
    expect((await kind(api.sendGroupMessage('cid-ops', 'sampleText', { content: 'a' }))).kind).toBe(
      'throttled',
    );
    sim.client.api.setFaults({ failNext: 1 });
    expect((await kind(api.sendGroupMessage('cid-ops', 'sampleText', { content: 'a' }))).retryable).toBe(
      true,
    );
    expect((await kind(api.sendGroupMessage('cid-nope', 'sampleText', { content: 'a' }))).kind).toBe(
      'invalid',
    );
    expect(await api.userIdByMobile('13800000002')).toBe('bob');
    expect(await api.userIdByMobile('19999999999')).toBeUndefined();
    const bad = new OpenApiClient(
      {
        clientId: 'dingops-demo',
        clientSecret: 'wrong',
        robotCode: 'x',
        apiBase: sim.url,
        oapiBase: sim.url,
        qps: 20,
      },
      pino({ level: 'silent' }),
    );
    expect((await kind(bad.accessToken())).kind).toBe('auth');
    const down = new OpenApiClient(
      {
        clientId: 'a',
        clientSecret: 'b',
        robotCode: 'x',
        apiBase: 'http://127.0.0.1:9',
        oapiBase: 'http://127.0.0.1:9',
        qps: 20,
      },
      pino({ level: 'silent' }),
    );
    expect((await kind(down.accessToken())).kind).toBe('transient');
  });

  it('refuses sessionWebhooks on foreign hosts and never sends them the token', async () => {
    await expect(
      api.sendBySessionWebhook('https://evil.example/robot/sendBySession?session=x', {
        msgtype: 'text',
        text: { content: 'x' },
      }),
    ).rejects.toThrow('refusing sessionWebhook host evil.example');
    await expect(api.sendBySessionWebhook(`${sim.url}/other/path`, { msgtype: 'text' })).rejects.toThrow(
      'refusing',
    );
    const s = sim.state.newSessionWebhook('dingops-demo', 'cid-ops');
    let headers: Record<string, unknown> = {};
    sim.server.server.prependListener('request', (req) => {
      if (req.url?.startsWith('/robot/sendBySession')) headers = req.headers;
    });
    await api.sendBySessionWebhook(`${sim.url}/robot/sendBySession?session=${s.session}`, {
      msgtype: 'text',
      text: { content: 'via webhook' },
    });
    expect(headers['x-acs-dingtalk-access-token']).toBeUndefined();
    expect(sim.client.botMessages('ops').map((m) => m.content)).toEqual(['via webhook']);
  });

  it('stays within the QPS without tripping DingTalk', async () => {
    await sim.client.api.updateApp('dingops-demo', { qps: 5 });
    const small = new OpenApiClient(
      {
        clientId: 'dingops-demo',
        clientSecret: 'dingops-demo-secret',
        robotCode: 'dingops-demo',
        apiBase: sim.url,
        oapiBase: sim.url,
        qps: 5,
      },
      pino({ level: 'silent' }),
    );
    await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        small.sendGroupMessage('cid-ops', 'sampleText', { content: String(i) }),
      ),
    );
    const throttled = sim.state.calls.filter(
      (c) => c.code === 'Forbidden.AccessDenied.QpsLimitForAppkeyAndApi',
    );
    expect(throttled).toEqual([]);
    expect(sim.client.botMessages('ops')).toHaveLength(12);
  });

  it('retries a legacy call throttled inside errcode 88 (sub_code 90018), and one throttled as 90018', async () => {
    // The scene-group call of a war room during an incident burst (docs/dingtalk-protocol.md §6.2).
    sim.client.api.setFaults({ throttleNext: 2, pathFilter: 'scenegroup/create' });
    const made = await api.createSceneGroup({
      title: 'INC-1',
      templateId: sim.state.org.sceneGroupTemplates[0]?.templateId ?? '',
      ownerUserId: 'alice',
      userIds: ['bob'],
      uuid: 'uuid-throttled-1',
    });
    expect(made.result.open_conversation_id).toMatch(/^cid/);
    const refused = sim.state.calls.filter((c) => c.path.includes('scenegroup/create') && c.code === '88');
    expect(refused).toHaveLength(2);
  });

  it('stops on a legacy quota refusal (88/90020) and says so once per call to the budget hook', async () => {
    const exhausted: string[] = [];
    api.onQuotaExhausted = (name) => void exhausted.push(name);
    await sim.client.api.updateApp('dingops-demo', { monthlyQuota: 5, used: 5 });
    const err = await api.userIdByMobile('13800000002').then(
      () => undefined,
      (e: DingTalkApiError) => e,
    );
    expect([err?.kind, err?.code]).toEqual(['quota', '88/90020']);
    expect(exhausted).toEqual(['v2/user/getbymobile']);
    // Not retried: one refused call.
    expect(sim.state.calls.filter((c) => c.path.includes('getbymobile'))).toHaveLength(1);
  });
});
