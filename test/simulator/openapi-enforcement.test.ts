import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type RunningSimulator, startSimulator } from '../../simulator/index.js';

let sim: RunningSimulator;
beforeEach(async () => {
  sim = await startSimulator({ pingIntervalMs: 0 });
});
afterEach(async () => sim.stop());

async function token(clientId = 'dingops-demo', secret = 'dingops-demo-secret') {
  const r = await fetch(`${sim.url}/v1.0/oauth2/accessToken`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ appKey: clientId, appSecret: secret }),
  });
  return { status: r.status, body: (await r.json()) as Record<string, any> };
}

async function groupSend(tok: string | undefined, body: Record<string, unknown> = {}, viaQuery = false) {
  const url = `${sim.url}/v1.0/robot/groupMessages/send${viaQuery ? `?access_token=${tok}` : ''}`;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (tok && !viaQuery) headers['x-acs-dingtalk-access-token'] = tok;
  const r = await fetch(url, {
    method: 'POST',
    headers,
    body: JSON.stringify({
      robotCode: 'dingops-demo',
      openConversationId: 'cid-ops',
      msgKey: 'sampleText',
      msgParam: JSON.stringify({ content: 'hi' }),
      ...body,
    }),
  });
  return { status: r.status, body: (await r.json()) as Record<string, any> };
}

describe('simulated OpenAPI enforcement', () => {
  it('issues tokens like DingTalk, and rejects wrong credentials with its error body', async () => {
    const ok = await token();
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ expireIn: 7200 });
    expect((await token()).body.accessToken).toBe(ok.body.accessToken);
    const bad = await token('dingops-demo', 'wrong');
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 'invalidClientIdOrSecret' });
    expect(bad.body.requestid).toBeTruthy();
    const legacy = (await (
      await fetch(`${sim.url}/gettoken?appkey=dingops-demo&appsecret=nope`)
    ).json()) as Record<string, unknown>;
    expect(legacy).toMatchObject({ errcode: 40096 });
  });

  it('wants the token in the header, not the query, and rejects unknown tokens', async () => {
    const tok = (await token()).body.accessToken;
    expect((await groupSend(tok, {}, true)).body).toMatchObject({
      code: 'AuthenticationFailed.MissingParameter',
    });
    expect((await groupSend('nope')).body).toMatchObject({ code: 'InvalidAuthentication' });
    expect((await groupSend(tok)).status).toBe(200);
    expect(sim.client.botMessages('ops').map((m) => m.content)).toEqual(['hi']);
  });

  it('reports a missing scope with requiredScopes', async () => {
    await sim.client.api.updateApp('dingops-demo', { scopes: [] });
    const tok = (await token()).body.accessToken;
    const r = await groupSend(tok);
    expect(r.status).toBe(403);
    expect(r.body).toMatchObject({
      code: 'Forbidden.AccessDenied.AccessTokenPermissionDenied',
      accessdenieddetail: { requiredScopes: ['qyapi_robot_sendmsg'] },
    });
  });

  it('throttles beyond the app QPS and stops at the monthly quota', async () => {
    await sim.client.api.updateApp('dingops-demo', { qps: 3 });
    const tok = (await token()).body.accessToken;
    const results = await Promise.all(Array.from({ length: 6 }, () => groupSend(tok)));
    const codes = results.map((r) => r.body.code ?? 'ok');
    expect(
      codes.filter((c) => c === 'Forbidden.AccessDenied.QpsLimitForAppkeyAndApi').length,
    ).toBeGreaterThanOrEqual(1);
    await sim.client.api.updateApp('dingops-demo', { qps: 100, monthlyQuota: 10, used: 10 });
    expect((await groupSend(tok)).body).toMatchObject({ code: 'Forbidden.AccessDenied.ApiCountLimitForOrg' });
    expect(sim.client.api.calls().quota['dingops-demo']).toEqual({ used: 10, limit: 10 });
  });

  it('validates message parameters and sizes', async () => {
    const tok = (await token()).body.accessToken;
    expect((await groupSend(tok, { msgParam: '{not json' })).body).toMatchObject({
      code: 'invalidParameter.msgParam.invalid',
    });
    expect(
      (await groupSend(tok, { msgParam: JSON.stringify({ content: 'x'.repeat(16_000) }) })).body.message,
    ).toContain('15000 bytes');
    expect((await groupSend(tok, { robotCode: 'other' })).body).toMatchObject({
      code: 'invalidParameter.robotCode.auth',
    });
    expect((await groupSend(tok, { msgKey: 'sampleActionCard1' })).body).toMatchObject({
      code: 'invalidParameter.msgKey.invalid',
    });
  });

  it('expires sessionWebhooks with errcode 300001', async () => {
    const s = sim.state.newSessionWebhook('dingops-demo', 'cid-ops');
    const url = `${sim.url}/robot/sendBySession?session=${s.session}`;
    const send = async () =>
      (await (
        await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ msgtype: 'text', text: { content: 'x' } }),
        })
      ).json()) as Record<string, unknown>;
    expect(await send()).toMatchObject({ errcode: 0 });
    s.expiresAt = Date.now() - 1;
    expect(await send()).toMatchObject({ errcode: 300001 });
  });

  it('gives single-use gateway tickets and refuses bad credentials', async () => {
    const open = async (secret = 'dingops-demo-secret') =>
      fetch(`${sim.url}/v1.0/gateway/connections/open`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({
          clientId: 'dingops-demo',
          clientSecret: secret,
          subscriptions: [{ type: 'EVENT', topic: '*' }],
        }),
      });
    expect((await open('bad')).status).toBe(401);
    const { endpoint, ticket } = (await (await open()).json()) as { endpoint: string; ticket: string };
    expect(endpoint).toBe(`${sim.url.replace('http', 'ws')}/connect`);
    const { WebSocket } = await import('ws');
    const connect = (t: string) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(`${endpoint}?ticket=${t}`);
        ws.on('open', () => {
          ws.close();
          resolve(101);
        });
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.on('error', () => resolve(0));
      });
    expect(await connect(ticket)).toBe(101);
    expect(await connect(ticket)).toBe(401);
    sim.client.api.setFaults({ refuseGateway: true });
    expect((await open()).status).toBe(503);
  });
});
