import { describe, expect, it } from 'vitest';
import { CallbackCrypto, CallbackCryptoError } from '../../../../core/receive/http/callback-crypto.js';
import { VECTORS } from '../../../fixtures/crypto-vectors.js';

function reason(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof CallbackCryptoError) return err.reason;
    throw err;
  }
  return undefined;
}

describe('event subscription crypto (docs/dingtalk-protocol.md §4.3-4.7)', () => {
  it.each(VECTORS.map((v, i) => [i + 1, v] as const))('decrypts and verifies vector %i', (_n, v) => {
    const crypto = new CallbackCrypto(v.token, v.aesKey, v.owner);
    expect(crypto.signature(v.timestamp, v.nonce, v.encrypt)).toBe(v.signature);
    expect(crypto.decrypt(v.signature, v.timestamp, v.nonce, v.encrypt)).toBe(v.plain);
  });

  it('re-encrypts vectors 1 and 3 byte for byte (32-byte padding)', () => {
    for (const v of [VECTORS[0]!, VECTORS[2]!]) {
      const crypto = new CallbackCrypto(v.token, v.aesKey, v.owner);
      expect(crypto.encrypt(v.plain, v.random)).toBe(v.encrypt);
    }
  });

  it('builds the success reply DingTalk checks: camel-case timeStamp, signed, decrypting to success', () => {
    const v = VECTORS[0]!;
    const crypto = new CallbackCrypto(v.token, v.aesKey, v.owner);
    const reply = crypto.successReply('1700000000000', 'abcdEFGH12345678');
    expect(Object.keys(reply).sort()).toEqual(['encrypt', 'msg_signature', 'nonce', 'timeStamp']);
    expect(reply.timeStamp).toBe('1700000000000');
    expect(crypto.decrypt(reply.msg_signature, reply.timeStamp, reply.nonce, reply.encrypt)).toBe('success');
  });

  it('refuses a bad signature, a wrong token, a tampered ciphertext and another owner key', () => {
    const v = VECTORS[0]!;
    const crypto = new CallbackCrypto(v.token, v.aesKey, v.owner);
    const badSig = `${v.signature.slice(0, -1)}${v.signature.endsWith('0') ? '1' : '0'}`;
    expect(reason(() => crypto.decrypt(badSig, v.timestamp, v.nonce, v.encrypt))).toBe('bad-signature');
    const otherToken = new CallbackCrypto('othertoken', v.aesKey, v.owner);
    expect(reason(() => otherToken.decrypt(v.signature, v.timestamp, v.nonce, v.encrypt))).toBe(
      'bad-signature',
    );
    // A changed ciphertext no longer matches its signature (the signature is the integrity check).
    const bytes = Buffer.from(v.encrypt, 'base64');
    bytes[20] = bytes[20]! ^ 0x01;
    const tampered = bytes.toString('base64');
    expect(reason(() => crypto.decrypt(v.signature, v.timestamp, v.nonce, tampered))).toBe('bad-signature');
    // Re-signed (as if the token leaked) and garbling the length field: caught by the layout checks.
    const garbled = Buffer.from(v.encrypt, 'base64');
    garbled[0] = garbled[0]! ^ 0x80;
    const g = garbled.toString('base64');
    expect(
      reason(() => crypto.decrypt(crypto.signature(v.timestamp, v.nonce, g), v.timestamp, v.nonce, g)),
    ).toBe('bad-ciphertext');
    const truncated = v.encrypt.slice(0, 10);
    expect(
      reason(() =>
        crypto.decrypt(crypto.signature(v.timestamp, v.nonce, truncated), v.timestamp, v.nonce, truncated),
      ),
    ).toBe('bad-ciphertext');
    const otherOwner = new CallbackCrypto(v.token, v.aesKey, 'ding-another-app');
    expect(reason(() => otherOwner.decrypt(v.signature, v.timestamp, v.nonce, v.encrypt))).toBe(
      'wrong-owner',
    );
  });

  it('rejects an aes_key that is not 43 letters and digits', () => {
    expect(reason(() => new CallbackCrypto('t', 'short', 'o'))).toBe('bad-key');
  });
});
