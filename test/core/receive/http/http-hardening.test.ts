import { afterEach, describe, expect, it } from 'vitest';
import type { Database } from '../../../../core/storage/database.js';
import { DatabaseToken } from '../../../../core/storage/database.js';
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

async function post(
  url: string,
  body: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: any }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  return { status: res.status, body: await res.json().catch(() => undefined) };
}

/** A robot message as DingTalk pushes it, for a message `sender` typed in `ops` (not pushed by the simulator). */
async function robotPayload(s: SimBot, sender: string, text: string): Promise<Record<string, any>> {
  const { msgId } = await s.sim.client.as(sender).say(text, { group: 'ops', atBot: false });
  return s.sim.client.api.robotPayload(msgId);
}

const signedNow = () => {
  const at = String(Date.now());
  return { timestamp: at, sign: robotSign(at, SECRET) };
};

describe('a captured HTTP signature cannot carry another body', () => {
  it('robot messages: the same headers with a new body are refused, also after a restart', async () => {
    sb = await createSimBot({ mode: 'http' });
    const robot = `${sb.publicUrl}/dingtalk/robot`;
    const headers = signedNow();
    const legit = await robotPayload(sb, 'bob', 'ping');
    expect((await post(robot, JSON.stringify(legit), headers)).status).toBe(200);
    await sb.sim.client.until(() => sb!.sim.client.botMessages('ops').length === 1, 3000, 'the pong');
    // The attacker keeps timestamp and sign, and writes a message from alice.
    const forged = {
      ...(await robotPayload(sb, 'bob', 'whoami')),
      senderStaffId: 'alice',
      senderNick: 'Alice',
    };
    const refused = await post(robot, JSON.stringify(forged), headers);
    expect(refused.status).toBe(401);
    expect(refused.body.error).toMatch(/already used with another body/);
    // The very same request again is a duplicate message, not a forgery.
    expect((await post(robot, JSON.stringify(legit), headers)).status).toBe(409);
    // Durable: a restarted bot (or another replica on the same store) still refuses it.
    await sb.bot.stop('test');
    await sb.restart();
    expect((await post(robot, JSON.stringify(forged), headers)).status).toBe(401);
    await new Promise((r) => setTimeout(r, 200));
    expect(sb.sim.client.botMessages('ops').map((m) => m.content)).toEqual(['pong']);
  });

  it('card callbacks: a captured click signature cannot click as someone else', async () => {
    sb = await createSimBot({ mode: 'http', plugins: [hello] });
    const greeting = await sb.sim.client.as('alice').ask('hello team', { group: 'ops' });
    const wave = greeting.buttons[0]!;
    const target = [...sb.sim.state.cardCallbacks.values()][0]!;
    const at = String(Date.now());
    const headers = {
      'x-ddpaas-signature-timestamp': at,
      'x-ddpaas-signature': cardSign(at, target.apiSecret),
    };
    const click = (user: string) =>
      JSON.stringify(cardCallbackPayload(sb!.sim.state, greeting.cardId!, 'cid-ops', user, wave.params!));
    expect((await post(target.url, click('bob'), headers)).status).toBe(200);
    const forged = await post(target.url, click('carol'), headers);
    expect(forged.status).toBe(401);
    expect(forged.body.error).toMatch(/already used with another body/);
  });

  it('events: a year-old timestamp is refused though its signature is right', async () => {
    sb = await createSimBot({ mode: 'http' });
    const encrypt = encryptEvent(
      { token: TEST_TOKEN, aesKey: TEST_AES_KEY, ownerKey: 'dingops-demo' },
      JSON.stringify({ EventType: 'chat_update_title', openConversationId: 'cid-ops', title: 'pwned' }),
    );
    const old = String(Date.now() - 365 * 86_400_000);
    const r = await post(
      `${sb.publicUrl}/dingtalk/events?msg_signature=${eventSignature(TEST_TOKEN, old, 'abc', encrypt)}&timestamp=${old}&nonce=abc`,
      JSON.stringify({ encrypt }),
    );
    expect(r.status).toBe(401);
    expect(r.body.error).toMatch(/min away from this server's clock/);
  });
});

describe('malformed input gets a 4xx with its reason', () => {
  it('a repeated query parameter, atUsers [null], a deeply nested body: 400, nothing stored', async () => {
    sb = await createSimBot({ mode: 'http' });
    const encrypt = encryptEvent(
      { token: TEST_TOKEN, aesKey: TEST_AES_KEY, ownerKey: 'dingops-demo' },
      '{"EventType":"check_url"}',
    );
    const at = String(Date.now());
    const sig = eventSignature(TEST_TOKEN, at, 'abc', encrypt);
    const repeated = await post(
      `${sb.publicUrl}/dingtalk/events?msg_signature=${sig}&msg_signature=${sig}&timestamp=${at}&nonce=abc`,
      JSON.stringify({ encrypt }),
    );
    expect(repeated.status).toBe(400);
    expect(repeated.body.error).toMatch(/given more than once: msg_signature/);

    const robot = `${sb.publicUrl}/dingtalk/robot`;
    const nullMention = { ...(await robotPayload(sb, 'bob', 'ping')), atUsers: [null] };
    const r1 = await post(robot, JSON.stringify(nullMention), signedNow());
    expect(r1.status).toBe(400);
    expect(r1.body.error).toMatch(/atUsers\[0\] must be an object/);

    // 10,000 nested arrays: valid JSON that JSON.stringify (and so the store) cannot take.
    const nested = JSON.stringify(await robotPayload(sb, 'bob', 'ping')).replace(
      /}$/,
      `,"extra":${'['.repeat(10_000)}1${']'.repeat(10_000)}}`,
    );
    const r2 = await post(robot, nested, signedNow());
    expect(r2.status).toBe(400);
    expect(r2.body.error).toMatch(/nested more than 16 levels/);
    const db = sb.bot.resolve<Database>(DatabaseToken).db;
    const rows = await db.selectFrom('inbound_seen').select('id').execute();
    expect(rows).toEqual([]);
  });

  it('a stored message that cannot be decoded is dead-lettered with its reason, not replayed at every start', async () => {
    sb = await createSimBot({ mode: 'http' });
    const db = sb.bot.resolve<Database>(DatabaseToken).db;
    // As if an older version (which records no replica) accepted it a minute before a crash.
    await db
      .insertInto('inbound_seen')
      .values({
        id: 'msg:bad-1',
        kind: 'robot',
        received_at: Date.now() - 60_000,
        payload: JSON.stringify({ msgId: 'bad-1', conversationId: 'cid-ops', atUsers: [null] }),
        done: 0,
      })
      .execute();
    await sb.bot.stop('test');
    await sb.restart();
    const db2 = sb.bot.resolve<Database>(DatabaseToken).db;
    const deadLetter = async () => {
      for (const deadline = Date.now() + 3000; Date.now() < deadline; ) {
        const r = await db2
          .selectFrom('inbound_seen')
          .select(['done', 'error', 'payload'])
          .where('id', '=', 'msg:bad-1')
          .executeTakeFirst();
        if (r && Number(r.done) === 2) return r;
        await new Promise((w) => setTimeout(w, 20));
      }
      throw new Error('not dead-lettered');
    };
    const row = await deadLetter();
    expect(row.error).toMatch(/atUsers\[0\] must be an object/);
    expect(row.payload).toContain('bad-1');
    const mentions = () =>
      sb!.logs.lines.filter((l) =>
        /dead-lettered|accepted before the last stop|accepted by a replica that stopped/.test(l),
      );
    expect(mentions()).toHaveLength(2);
    // The next start has nothing to replay.
    await sb.bot.stop('test');
    await sb.restart();
    await new Promise((r) => setTimeout(r, 200));
    expect(mentions()).toHaveLength(2);
  });
});
