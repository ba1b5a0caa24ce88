import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { sameSecretText } from '../../util/constant-time.js';

/** Why an encrypted push was refused; `reason` is safe to log (it never contains key material). */
export class CallbackCryptoError extends Error {
  constructor(
    readonly reason: 'bad-signature' | 'bad-ciphertext' | 'wrong-owner' | 'bad-key',
    message: string,
  ) {
    super(message);
  }
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** DingTalk pads to 32-byte blocks (docs/dingtalk-protocol.md §4.3), not AES's 16. */
const PAD_BLOCK = 32;

export function randomAlnum(n: number): string {
  return Array.from(randomBytes(n), (b) => ALNUM[b % 62]).join('');
}

/**
 * The event subscription's encryption (DingTalk's `DingCallbackCrypto`, docs/dingtalk-protocol.md §4.3-4.5):
 * SHA-1 signature over the sorted token, timestamp, nonce and ciphertext; AES-256-CBC with
 * the 43-character key (IV = first 16 key bytes); plaintext = 16 random bytes, big-endian
 * length, message, owner key, padded to 32.
 */
export class CallbackCrypto {
  private readonly key: Buffer;

  constructor(
    private readonly token: string,
    aesKey: string,
    private readonly ownerKey: string,
  ) {
    if (!/^[A-Za-z0-9]{43}$/.test(aesKey))
      throw new CallbackCryptoError('bad-key', 'the aes_key must be 43 letters and digits');
    this.key = Buffer.from(`${aesKey}=`, 'base64');
  }

  signature(timestamp: string, nonce: string, encrypt: string): string {
    return createHash('sha1').update([this.token, timestamp, nonce, encrypt].sort().join('')).digest('hex');
  }

  /** Constant-time check of a `msg_signature`. */
  verify(signature: string, timestamp: string, nonce: string, encrypt: string): boolean {
    return sameSecretText(signature.toLowerCase(), this.signature(timestamp, nonce, encrypt));
  }

  encrypt(message: string, random = randomAlnum(16)): string {
    const body = Buffer.from(message, 'utf8');
    const length = Buffer.alloc(4);
    length.writeUInt32BE(body.length);
    const plain = Buffer.concat([
      Buffer.from(random, 'latin1'),
      length,
      body,
      Buffer.from(this.ownerKey, 'utf8'),
    ]);
    const pad = PAD_BLOCK - (plain.length % PAD_BLOCK);
    const cipher = createCipheriv('aes-256-cbc', this.key, this.key.subarray(0, 16)).setAutoPadding(false);
    return Buffer.concat([
      cipher.update(Buffer.concat([plain, Buffer.alloc(pad, pad)])),
      cipher.final(),
    ]).toString('base64');
  }

  /** Verifies the signature, decrypts, and checks the owner key; returns the message text. */
  decrypt(signature: string, timestamp: string, nonce: string, encrypt: string): string {
    if (!this.verify(signature, timestamp, nonce, encrypt))
      throw new CallbackCryptoError(
        'bad-signature',
        'msg_signature does not match (check dingtalk.token against the event subscription page)',
      );
    return this.open(encrypt, false);
  }

  /**
   * Decrypts an envelope whose request was authenticated otherwise (a robot callback's
   * `timestamp`/`sign` headers, docs/dingtalk-protocol.md §3.3). `ownerOptional`: an envelope
   * with no owner key after the message is accepted (one implementation sends none); an owner
   * key that is there must still be ours.
   */
  open(encrypt: string, ownerOptional: boolean): string {
    const raw = Buffer.from(encrypt, 'base64');
    if (raw.length === 0 || raw.length % 16 !== 0)
      throw new CallbackCryptoError('bad-ciphertext', 'encrypt is not a whole number of AES blocks');
    let plain: Buffer;
    try {
      const decipher = createDecipheriv('aes-256-cbc', this.key, this.key.subarray(0, 16)).setAutoPadding(
        false,
      );
      plain = Buffer.concat([decipher.update(raw), decipher.final()]);
    } catch {
      throw new CallbackCryptoError('bad-ciphertext', 'encrypt could not be decrypted');
    }
    // Like DingTalk's Java code: a pad byte outside 1..32 is not padding.
    const pad = plain[plain.length - 1] ?? 0;
    if (pad >= 1 && pad <= PAD_BLOCK) plain = plain.subarray(0, plain.length - pad);
    if (plain.length < 20)
      throw new CallbackCryptoError('bad-ciphertext', 'decrypted text is shorter than its header');
    const length = plain.readUInt32BE(16);
    if (20 + length > plain.length)
      throw new CallbackCryptoError(
        'bad-ciphertext',
        'decrypted length field exceeds the text (wrong dingtalk.aesKey?)',
      );
    const owner = plain.subarray(20 + length).toString('utf8');
    if (owner !== this.ownerKey && !(ownerOptional && owner === ''))
      throw new CallbackCryptoError(
        'wrong-owner',
        'the event is for another app (owner key mismatch; dingtalk.ownerKey defaults to the clientId)',
      );
    return plain.subarray(20, 20 + length).toString('utf8');
  }

  /** The reply DingTalk requires: encrypted `success`, signed, with camel-case `timeStamp`. */
  successReply(
    timestamp = String(Date.now()),
    nonce = randomAlnum(16),
  ): { msg_signature: string; timeStamp: string; nonce: string; encrypt: string } {
    const encrypt = this.encrypt('success');
    return { msg_signature: this.signature(timestamp, nonce, encrypt), timeStamp: timestamp, nonce, encrypt };
  }
}
