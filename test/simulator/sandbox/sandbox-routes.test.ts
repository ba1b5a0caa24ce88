import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { type RunningSimulator, startSimulator } from '../../../simulator/index.js';
import { ASSET_FILES } from '../../../simulator/sandbox/assets.js';

let sim: RunningSimulator | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

async function started(): Promise<RunningSimulator> {
  sim = await startSimulator({ pingIntervalMs: 0 });
  return sim;
}

/** The live feed as the page reads it: events in arrival order, until `stop`. */
function listen(url: string) {
  const events: Array<{ event: string; data: any }> = [];
  let buffer = '';
  const req = request(`${url}/sim/sandbox/events`);
  const opened = new Promise<void>((resolve, reject) => {
    req.on('response', (res) => {
      expect(res.headers['content-type']).toContain('text/event-stream');
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(frame)?.[1];
          const data = /^data: (.*)$/m.exec(frame)?.[1];
          if (event && data) events.push({ event, data: JSON.parse(data) });
        }
      });
      resolve();
    });
    req.on('error', reject);
  });
  req.end();
  return { events, opened, stop: () => req.destroy() };
}

describe('the sandbox routes', () => {
  it('serves the page and every file it loads from the simulator itself (no CDN), under a strict CSP', async () => {
    const { url } = await started();
    const page = await fetch(`${url}/`);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    const html = await page.text();
    // Every file the page or its scripts name is one the simulator serves, by a local path.
    const texts = [html];
    for (const name of ASSET_FILES.filter((f) => f !== 'index.html')) {
      const res = await fetch(`${url}/sandbox/${name}`);
      expect(res.status, name).toBe(200);
      texts.push(await res.text());
    }
    const references = [
      ...[...html.matchAll(/(?:src|href)="([^"#]+)"/g)].map((m) => m[1] ?? ''),
      ...texts.flatMap((t) => [...t.matchAll(/^import .* from '([^']+)'/gm)].map((m) => m[1] ?? '')),
    ];
    expect(references.length).toBeGreaterThan(4);
    for (const ref of references) {
      expect(ref, ref).toMatch(/^(\/sandbox\/|\.\/)[\w.-]+$/);
      const name = ref.replace(/^(\/sandbox\/|\.\/)/, '');
      expect(ASSET_FILES, ref).toContain(name);
    }
  });

  it('serves nothing else from the disk', async () => {
    const { url } = await started();
    for (const path of [
      '/sandbox/assets.ts',
      '/sandbox/..%2fstate.ts',
      '/sandbox/markdown.d.ts',
      '/sandbox/',
    ])
      expect((await fetch(`${url}${path}`)).status, path).toBe(404);
  });

  it('shows the app without its secrets', async () => {
    const s = await started();
    await s.client.api.updateApp('dingops-demo', {
      aesKey: 'A'.repeat(43),
      token: 'tok3n',
      scopes: ['qyapi_robot_sendmsg'],
    });
    const text = await (await fetch(`${s.url}/sim/sandbox/state`)).text();
    const state = JSON.parse(text);
    expect(state.apps[0].clientId).toBe('dingops-demo');
    // A scope taken away before any page opened is still offered back.
    expect(state.apps[0].scopes).toEqual(['qyapi_robot_sendmsg']);
    expect(state.apps[0].knownScopes).toContain('Card.Streaming.Write');
    expect(state.conversations.map((c: { title: string }) => c.title)).toEqual([
      'ops',
      'Alice',
      'Bob',
      'Carol',
    ]);
    for (const secret of ['dingops-demo-secret', 'A'.repeat(43), 'tok3n']) expect(text).not.toContain(secret);
  });

  it('pages through a conversation, newest first, with `more` until the first message', async () => {
    const s = await started();
    for (let i = 1; i <= 7; i++) await s.client.as('alice').say(`m${i}`, { group: 'ops', atBot: false });
    await s.client.as('bob').say('elsewhere');
    const page = async (before: number) =>
      (await (
        await fetch(`${s.url}/sim/sandbox/messages?conversation=ops&limit=3&before=${before}`)
      ).json()) as { more: boolean; messages: Array<{ seq: number; content: string }> };
    const newest = await page(0);
    expect(newest.messages.map((m: { content: string }) => m.content)).toEqual(['m5', 'm6', 'm7']);
    expect(newest.more).toBe(true);
    const oldest = await page(newest.messages[0]?.seq ?? 0);
    expect(oldest.messages.map((m: { content: string }) => m.content)).toEqual(['m2', 'm3', 'm4']);
    const last = await page(oldest.messages[0]?.seq ?? 0);
    expect(last).toMatchObject({ more: false, messages: [{ content: 'm1', senderName: 'Alice' }] });
    expect((await fetch(`${s.url}/sim/sandbox/messages?conversation=nowhere`)).status).toBe(404);
  });

  it('streams messages, card updates, calls and changes to the page as they happen', async () => {
    const s = await started();
    const feed = listen(s.url);
    await feed.opened;
    await s.client.as('alice').say('hello there', { group: 'ops' });
    await s.client.api.setFaults({ latencyMs: 5 });
    await s.client.api.updateApp('dingops-demo', { scopes: ['qyapi_robot_sendmsg'] });
    // The bot's side, over the real API: a token, a card, an update of it.
    const token = (
      (await (
        await fetch(`${s.url}/v1.0/oauth2/accessToken`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ appKey: 'dingops-demo', appSecret: 'dingops-demo-secret' }),
        })
      ).json()) as { accessToken: string }
    ).accessToken;
    await s.client.api.updateApp('dingops-demo', { scopes: ['Card.Instance.Write'] });
    const headers = { 'content-type': 'application/json', 'x-acs-dingtalk-access-token': token };
    await fetch(`${s.url}/v1.0/card/instances/createAndDeliver`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        outTrackId: 'c1',
        cardTemplateId: 'dingops.default.schema',
        openSpaceId: 'dtv1.card//IM_GROUP.cid-ops',
        imGroupOpenDeliverModel: { robotCode: 'dingops-demo' },
        cardData: { cardParamMap: { title: 'Deploy', color: 'blue' } },
      }),
    });
    await fetch(`${s.url}/v1.0/card/instances`, {
      method: 'PUT',
      headers,
      body: JSON.stringify({ outTrackId: 'c1', cardData: { cardParamMap: { title: 'Deployed' } } }),
    });
    await s.client.until(() => feed.events.some((e) => e.event === 'update'), 3000, 'the update event');
    feed.stop();
    const kinds = feed.events.map((e) => e.event);
    const said = feed.events.find((e) => e.event === 'message' && e.data.sender === 'alice');
    expect(said?.data).toMatchObject({ content: 'hello there', atBot: true, senderName: 'Alice' });
    expect(feed.events.filter((e) => e.event === 'changed').map((e) => e.data.what)).toContain('settings');
    // The card's message carries its template variables from the first event on.
    const card = feed.events.find((e) => e.event === 'message' && e.data.cardId === 'c1');
    expect(card?.data.card).toMatchObject({
      templateId: 'dingops.default.schema',
      params: { title: 'Deploy' },
    });
    const update = feed.events.find((e) => e.event === 'update');
    expect(update?.data).toMatchObject({ seq: card?.data.seq, card: { params: { title: 'Deployed' } } });
    const calls = feed.events.filter((e) => e.event === 'call').map((e) => e.data);
    expect(calls.map((c) => c.call.path)).toEqual(
      expect.arrayContaining(['/v1.0/card/instances/createAndDeliver', '/v1.0/card/instances']),
    );
    expect(calls.at(-1)).toMatchObject({
      quota: { clientId: 'dingops-demo', used: 2 },
      faults: { latencyMs: 5 },
    });
    expect(kinds.indexOf('message')).toBeLessThan(kinds.lastIndexOf('update'));
  });

  it('tells the page when conversations change: a scene group made, a group renamed', async () => {
    const s = await started();
    const feed = listen(s.url);
    await feed.opened;
    await s.client.api.groupChange('ops', 'rename', { title: 'ops-team' });
    await s.client.until(() => feed.events.some((e) => e.event === 'changed'), 3000, 'the change');
    feed.stop();
    expect(feed.events.map((e) => e.data.what)).toContain('conversations');
  });

  it('stops promptly with a page still listening', async () => {
    const s = await started();
    const feed = listen(s.url);
    await feed.opened;
    expect(s.server.sandbox.feed.viewers).toBe(1);
    await s.stop();
    sim = undefined;
  });

  it('refuses browsers from other sites and other host names, and no one else', async () => {
    const s = await started();
    const say = (headers: Record<string, string>) =>
      new Promise<number>((resolve, reject) => {
        const req = request(`${s.url}/sim/api/messages`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
        });
        req.on('response', (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end(JSON.stringify({ conversation: 'ops', sender: 'alice', text: 'hi', atBot: false }));
      });
    const host = new URL(s.url).host;
    // A page elsewhere posting to the simulator (cross-site request forgery).
    expect(await say({ origin: 'http://evil.example' })).toBe(403);
    // DNS rebinding: an attacker's name pointed at 127.0.0.1 looks same-origin to the browser.
    expect(
      await say({
        host: `evil.example:${new URL(s.url).port}`,
        origin: `http://evil.example:${new URL(s.url).port}`,
      }),
    ).toBe(403);
    expect(s.state.messages).toHaveLength(0);
    // The sandbox page itself, on localhost or the IP; and programs, which send no Origin.
    expect(await say({ origin: `http://${host}`, 'sec-fetch-site': 'same-origin' })).toBe(200);
    expect(
      await say({
        host: `localhost:${new URL(s.url).port}`,
        origin: `http://localhost:${new URL(s.url).port}`,
      }),
    ).toBe(200);
    expect(await say({})).toBe(200);
    expect(s.state.messages).toHaveLength(3);
  });
});
