import { describe, expect, it } from 'vitest';
import { CallbackCrypto } from '../../core/receive/http/callback-crypto.js';
import { robotCallbackSign } from '../../core/receive/http/robot-signature.js';
import { decryptEvent, encryptEvent, eventSignature, robotSign } from '../../simulator/event-crypto.js';
import { VECTORS } from '../fixtures/crypto-vectors.js';

describe("the simulator's push crypto (its own implementation)", () => {
  it.each(VECTORS.map((v, i) => [i + 1, v] as const))('matches vector %i', (_n, v) => {
    expect(eventSignature(v.token, v.timestamp, v.nonce, v.encrypt)).toBe(v.signature);
    expect(decryptEvent(v.aesKey, v.encrypt)).toEqual({ message: v.plain, ownerKey: v.owner });
    if (v.random) expect(encryptEvent({ ...v, ownerKey: v.owner }, v.plain, v.random)).toBe(v.encrypt);
  });

  it('agrees with the bot both ways on a message with multi-byte text', () => {
    const keys = { token: 'tok3n', aesKey: VECTORS[3]!.aesKey, ownerKey: 'dingops-demo' };
    const bot = new CallbackCrypto(keys.token, keys.aesKey, keys.ownerKey);
    const text = JSON.stringify({ EventType: 'chat_update_title', title: '值班群 🚨' });
    const fromSim = encryptEvent(keys, text);
    expect(bot.decrypt(eventSignature(keys.token, '1', 'n', fromSim), '1', 'n', fromSim)).toBe(text);
    expect(decryptEvent(keys.aesKey, bot.encrypt(text))).toEqual({ message: text, ownerKey: 'dingops-demo' });
  });

  it('signs robot callbacks like docs/dingtalk-protocol.md §3.1 and like the bot', () => {
    expect(robotSign('1700000000000', 'this is secret')).toBe('sSFWELbV2YwjdDQhWZwTcWlX5BWUx5J6TPpsZmuPii0=');
    expect(robotSign('1', 's')).toBe(robotCallbackSign('1', 's'));
  });
});
