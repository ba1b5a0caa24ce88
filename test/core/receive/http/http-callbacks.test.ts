import { afterEach, describe, expect, it } from 'vitest';
import { DiagnosticsToken } from '../../../../core/diagnostics/diagnostics.js';
import { GroupsToken } from '../../../../core/directory/group-registry.js';
import hello from '../../../../plugins/hello/index.js';
import { cardSign, encryptEvent, eventSignature, robotSign } from '../../../../simulator/event-crypto.js';
import { cardCallbackPayload } from '../../../../simulator/robot-push.js';
import { createSimBot, type SimBot, TEST_AES_KEY, TEST_TOKEN } from '../../../helpers/sim-bot.js';

const SECRET = 'dingops-demo-secret';
let sb: SimBot | undefined;
afterEach(async () => {
  await sb?.stop();
  sb = undefined;
});

/** A robot message payload as DingTalk would send it for a new message from bob in `ops`. */
async function payload(s: SimBot, text = 'ping'): Promise<Record<string, unknown>> {
  // Said without @bot, so the simulator records it without pushing it; we push it by hand.
  const { msgId } = await s.sim.client.as('bob').say(text, { group: 'ops', atBot: false });
  return s.sim.client.api.robotPayload(msgId);
}

async function postRobot(
  s: SimBot,
  body: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: any }> {
  const res = await fetch(`${s.publicUrl}/dingtalk/robot`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  return { status: res.status, body: await res.json().catch(() => undefined) };
}

// DingTalk's sign covers only the timestamp, and each pair is accepted with one body: requests
// made together here get timestamps a millisecond apart, as separate pushes would.
let tick = 0;
function signed(at = Date.now() + (tick++ % 1000), secret = SECRET): Record<string, string> {
  return { timestamp: String(at), sign: robotSign(String(at), secret) };
}

async function postEvent(
  s: SimBot,
  plaintext: string,
  options: {
    token?: string;
    owner?: string;
    query?: (q: URLSearchParams, sig: string) => void;
    encrypt?: string;
  } = {},
): Promise<{ status: number; body: any }> {
  const encrypt =
    options.encrypt ??
    encryptEvent(
      { token: TEST_TOKEN, aesKey: TEST_AES_KEY, ownerKey: options.owner ?? 'dingops-demo' },
      plaintext,
    );
  const timestamp = String(Date.now());
  const nonce = 'n0nce123';
  const sig = eventSignature(options.token ?? TEST_TOKEN, timestamp, nonce, encrypt);
  const q = new URLSearchParams();
  if (options.query) options.query(q, sig);
  else {
    q.set('msg_signature', sig);
    q.set('timestamp', timestamp);
    q.set('nonce', nonce);
  }
  if (!q.has('nonce')) q.set('nonce', nonce);
  if (!q.has('timestamp') && !q.has('timeStamp')) q.set('timestamp', timestamp);
  const res = await fetch(`${s.publicUrl}/dingtalk/events?${q}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ encrypt }),
  });
  return { status: res.status, body: await res.json().catch(() => undefined) };
}

describe('robot messages over HTTP (docs/dingtalk-protocol.md §3)', () => {
  it('answers a signed message through the outbox, as in Stream mode', async () => {
    sb = await createSimBot({ mode: 'http' });
    const reply = await sb.sim.client.as('bob').ask('ping', { group: 'ops' });
    expect(reply).toMatchObject({ conversation: 'cid-ops', content: 'pong', via: 'sessionWebhook' });
    const dm = await sb.sim.client.as('carol').ask('whoami');
    expect(dm.content).toContain('**userId**: carol');
    expect(sb.sim.state.pushes.filter((p) => p.kind === 'robot').every((p) => p.status === 200)).toBe(true);
    const ready = await fetch(`${sb.publicUrl}/readyz`);
    expect(ready.status).toBe(200);
  });

  it('refuses wrong signs, stale timestamps, missing headers, replays, oversized and malformed bodies', async () => {
    sb = await createSimBot({ mode: 'http' });
    const body = JSON.stringify(await payload(sb));
    const cases: Array<[string, Promise<{ status: number; body: any }>, number, RegExp]> = [
      ['wrong sign', postRobot(sb, body, signed(Date.now(), 'not-the-secret')), 401, /sign does not match/],
      ['stale', postRobot(sb, body, signed(Date.now() - 2 * 3_600_000)), 401, /min away/],
      ['missing headers', postRobot(sb, body, {}), 400, /timestamp and sign headers are required/],
      ['malformed', postRobot(sb, '{"msgId": ', signed()), 400, /not valid JSON/],
      ['not a message', postRobot(sb, '{"hello":1}', signed()), 400, /msgId must be a non-empty string/],
      ['array', postRobot(sb, '[1,2]', signed()), 400, /not a JSON object/],
      ['oversized', postRobot(sb, JSON.stringify({ pad: 'x'.repeat(300 * 1024) }), signed()), 413, /./],
    ];
    for (const [what, pending, status, message] of cases) {
      const r = await pending;
      expect(r.status, what).toBe(status);
      expect(JSON.stringify(r.body), what).toMatch(message);
    }
    expect(sb.sim.client.botMessages('ops')).toEqual([]);

    // The genuine message once, then a replay of it.
    expect((await postRobot(sb, body, signed())).status).toBe(200);
    await sb.sim.client.nextReply('ops', { after: 0 });
    const replay = await postRobot(sb, body, signed());
    expect(replay.status).toBe(409);
    expect(replay.body.error).toMatch(/already received/);
    await new Promise((r) => setTimeout(r, 150));
    expect(sb.sim.client.botMessages('ops').map((m) => m.content)).toEqual(['pong']);

    // Every refusal is logged with its reason, never with the secret.
    const refusals = sb.logs.lines.filter((l) => l.includes('robot message refused'));
    expect(refusals.length).toBeGreaterThanOrEqual(6);
    expect(refusals.some((l) => l.includes('"reason":"bad-sign"'))).toBe(true);
    expect(sb.logs.text).not.toContain(SECRET);
    // Still serving after all that.
    expect((await sb.sim.client.as('bob').ask('ping', { group: 'ops' })).content).toBe('pong');
  });

  it("accepts DingTalk's documented hour of clock difference, each signature once", async () => {
    sb = await createSimBot({ mode: 'http' });
    // A bot whose clock is ten minutes behind DingTalk's, or a push sent again later.
    const late = signed(Date.now() - 10 * 60_000);
    expect((await postRobot(sb, JSON.stringify(await payload(sb)), late)).status).toBe(200);
    expect((await sb.sim.client.nextReply('ops', { after: 0 })).content).toBe('pong');
    // The same pair with another body stays a forgery for as long as it could verify.
    const other = await postRobot(sb, JSON.stringify(await payload(sb, 'help')), late);
    expect([other.status, other.body.error]).toEqual([401, expect.stringMatching(/already used/)]);
    expect(
      (await postRobot(sb, JSON.stringify(await payload(sb)), signed(Date.now() - 61 * 60_000))).status,
    ).toBe(401);
  });

  it('handles a message DingTalk re-pushes over HTTP only once', async () => {
    sb = await createSimBot({ mode: 'http' });
    const first = await sb.sim.client.as('bob').say('ping', { group: 'ops' });
    await sb.sim.client.nextReply('ops', { after: 0 });
    const again = await sb.sim.client.api.repush(first.msgId);
    expect(again).toEqual({ acked: false, status: 409 });
    await new Promise((r) => setTimeout(r, 150));
    expect(sb.sim.client.botMessages('ops')).toHaveLength(1);
  });

  it('round-trips a card button click through the registered HTTP card callback', async () => {
    sb = await createSimBot({ mode: 'http', plugins: [hello] });
    expect([...sb.sim.state.cardCallbacks.values()][0]).toMatchObject({
      app: 'dingops-demo',
      url: `${sb.publicUrl}/dingtalk/cards`,
    });
    const card = await sb.sim.client.as('bob').ask('hello team', { group: 'ops' });
    expect(sb.sim.state.cards.get(card.cardId!)?.callbackType).toBe('HTTP');
    const button = card.buttons.find((b) => b.text === 'Wave back')!;
    const after = await sb.sim.client.as('carol').click(card, button.params!);
    expect(after.responded).toBe(true);
    expect(after.content).toContain('Waves: 1');
    // A forged click (wrong signature) is refused.
    const res = await fetch(`${sb.publicUrl}/dingtalk/cards`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-ddpaas-signature-timestamp': String(Date.now()),
        'x-ddpaas-signature': 'Zm9yZ2Vk',
      },
      body: JSON.stringify({ outTrackId: card.cardId, userId: 'carol', content: '{}' }),
    });
    expect(res.status).toBe(401);
  });

  it('counts every press of a button, though two presses send the same body (no per-click id)', async () => {
    sb = await createSimBot({ mode: 'http', plugins: [hello] });
    const card = await sb.sim.client.as('bob').ask('hello team', { group: 'ops' });
    const button = card.buttons.find((b) => b.text === 'Wave back')!;
    expect((await sb.sim.client.as('carol').click(card, button.params!)).content).toContain('Waves: 1');
    await new Promise((r) => setTimeout(r, 5));
    // The same person, the same button: an identical body, a new signed timestamp.
    const second = await sb.sim.client.as('carol').click(card, button.params!);
    expect(second.responded).toBe(true);
    expect(second.content).toContain('Waves: 2');
    // A redelivery of one push (same timestamp, same body) is still one click.
    const body = JSON.stringify(
      cardCallbackPayload(
        sb.sim.state,
        card.cardId!,
        sb.sim.state.conversationId('ops')!,
        'carol',
        button.params!,
      ),
    );
    const timestamp = String(Date.now());
    const apiSecret = [...sb.sim.state.cardCallbacks.values()][0]!.apiSecret;
    const push = () =>
      fetch(`${sb!.publicUrl}/dingtalk/cards`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-ddpaas-signature-timestamp': timestamp,
          'x-ddpaas-signature': cardSign(timestamp, apiSecret),
        },
        body,
      });
    const third = await push();
    expect(third.status).toBe(200);
    expect(JSON.stringify(await third.json())).toContain('Waves: 3');
    expect(await (await push()).json()).toEqual({});
  });
});

describe('encrypted robot messages (docs/dingtalk-protocol.md §3.3)', () => {
  it('opens {"encrypt"} bodies with dingtalk.aesKey and says so in the status', async () => {
    sb = await createSimBot({ mode: 'http' });
    await sb.sim.client.api.updateApp('dingops-demo', { encryptRobotMessages: true });
    const reply = await sb.sim.client.as('bob').ask('ping', { group: 'ops' });
    expect(reply.content).toBe('pong');
    const sent = sb.sim.state.pushes.filter((p) => p.kind === 'robot');
    expect(sent.at(-1)).toMatchObject({ ok: true, status: 200 });
    const http = sb.bot.transports.find((t) => t.name === 'http')!;
    expect(http.state().detail).toMatch(/robot messages arrive encrypted/);
    expect(http.state().problem).toBeUndefined();
  });

  it('refuses an envelope it cannot open, or one for another app, with the reason', async () => {
    sb = await createSimBot({ mode: 'http' });
    const body = JSON.stringify(await payload(sb));
    const other = 'OtherAesKey0123456789abcdefghijklmnopqrstuv';
    const wrongKey = encryptEvent({ token: TEST_TOKEN, aesKey: other, ownerKey: 'dingops-demo' }, body);
    const r1 = await postRobot(sb, JSON.stringify({ encrypt: wrongKey }), signed());
    expect(r1.status).toBe(400);
    const foreign = encryptEvent({ token: TEST_TOKEN, aesKey: TEST_AES_KEY, ownerKey: 'another-app' }, body);
    const r2 = await postRobot(sb, JSON.stringify({ encrypt: foreign }), signed());
    expect([r2.status, r2.body.error]).toEqual([403, expect.stringMatching(/another app/)]);
    // An envelope with no owner key after the message (one implementation sends none) is ours.
    const bare = encryptEvent({ token: TEST_TOKEN, aesKey: TEST_AES_KEY, ownerKey: '' }, body);
    expect((await postRobot(sb, JSON.stringify({ encrypt: bare }), signed())).status).toBe(200);
    expect((await sb.sim.client.nextReply('ops', { after: 0 })).content).toBe('pong');
  });

  it('without dingtalk.aesKey, refuses an encrypted message with the setting to change, and doctor says what it saw', async () => {
    sb = await createSimBot({ mode: 'http' });
    const http = sb.bot.transports.find((t) => t.name === 'http')!;
    // The bot as configured without dingtalk.aesKey (the test kit's HTTP bots always set one).
    (http as unknown as { options: { robotCrypto?: unknown } }).options.robotCrypto = undefined;
    const body = JSON.stringify(await payload(sb));
    const envelope = encryptEvent(
      { token: TEST_TOKEN, aesKey: TEST_AES_KEY, ownerKey: 'dingops-demo' },
      body,
    );
    const r = await postRobot(sb, JSON.stringify({ encrypt: envelope }), signed());
    expect([r.status, r.body.error]).toEqual([400, expect.stringMatching(/dingtalk\.aesKey is not set/)]);
    expect(http.state().problem).toBe('doctor.state.encryptedWithoutKey');
    const results = await sb.bot.resolve(DiagnosticsToken).run({ only: ['connection'], fresh: true });
    expect(results.find((r) => r.id === 'connection.http')).toMatchObject({
      severity: 'warn',
      message: expect.stringMatching(
        /robot message arrived encrypted and was refused: dingtalk\.aesKey is not set/,
      ),
    });
  });
});

describe('encrypted event subscription over HTTP (docs/dingtalk-protocol.md §4)', () => {
  it('answers check_url with the encrypted success, under every query spelling', async () => {
    sb = await createSimBot({ mode: 'http' });
    const spellings: Array<(q: URLSearchParams, sig: string) => void> = [
      (q, sig) => q.set('msg_signature', sig),
      (q, sig) => q.set('signature', sig),
    ];
    for (const spell of spellings) {
      const r = await postEvent(sb, '{"EventType":"check_url"}', { query: spell });
      expect(r.status).toBe(200);
      expect(Object.keys(r.body).sort()).toEqual(['encrypt', 'msg_signature', 'nonce', 'timeStamp']);
      expect(r.body.msg_signature).toBe(
        eventSignature(TEST_TOKEN, r.body.timeStamp, r.body.nonce, r.body.encrypt),
      );
    }
    // `timeStamp` instead of `timestamp`: the signature is over the same value.
    const encrypt = encryptEvent(
      { token: TEST_TOKEN, aesKey: TEST_AES_KEY, ownerKey: 'dingops-demo' },
      '{"EventType":"check_url"}',
    );
    // A timestamp in seconds, as some senders give it (a fresh one: stale events are refused).
    const seconds = String(Math.floor(Date.now() / 1000));
    const camel = await fetch(
      `${sb.publicUrl}/dingtalk/events?signature=${eventSignature(TEST_TOKEN, seconds, 'abc', encrypt)}&timeStamp=${seconds}&nonce=abc`,
      { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ encrypt }) },
    );
    expect(camel.status).toBe(200);
    // The simulator's own check (it verifies the reply as DingTalk's console does).
    const app = await sb.sim.client.api.updateApp('dingops-demo', {
      eventUrl: `${sb.publicUrl}/dingtalk/events`,
    });
    expect(app.checkUrl).toEqual({ ok: true, error: undefined });
  });

  it('refuses a bad signature, a wrong token, another app, a tampered ciphertext and junk', async () => {
    sb = await createSimBot({ mode: 'http' });
    const event = JSON.stringify({
      EventType: 'chat_update_title',
      openConversationId: 'cid-ops',
      title: 'x',
    });
    const bad = await postEvent(sb, event, { query: (q) => q.set('msg_signature', '0'.repeat(40)) });
    expect(bad.status).toBe(401);
    expect((await postEvent(sb, event, { token: 'wrongtoken' })).status).toBe(401);
    const other = await postEvent(sb, event, { owner: 'another-app' });
    expect(other.status).toBe(403);
    expect(other.body.error).toMatch(/owner key/);
    const garbled = Buffer.from(
      encryptEvent({ token: TEST_TOKEN, aesKey: TEST_AES_KEY, ownerKey: 'dingops-demo' }, event),
      'base64',
    );
    garbled[0] = garbled[0]! ^ 0x80;
    expect((await postEvent(sb, event, { encrypt: garbled.toString('base64') })).status).toBe(400);
    const missing = await fetch(`${sb.publicUrl}/dingtalk/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"encrypt":"abc"}',
    });
    expect(missing.status).toBe(400);
    // None of it changed the group's title.
    expect(sb.bot.resolve(GroupsToken).get('cid-ops')?.title).not.toBe('x');
    expect(sb.logs.text).not.toContain(TEST_AES_KEY);
  });

  it('tells the simulator when the reply is wrong, as the DingTalk console does', async () => {
    sb = await createSimBot({ mode: 'http' });
    // The bot now holds another token than the one "saved in the console".
    const app = await sb.sim.client.api.updateApp('dingops-demo', { token: 'consoletoken' });
    expect(app.checkUrl?.ok).toBe(false);
    expect(app.checkUrl?.error).toMatch(/HTTP 401/);
  });
});
