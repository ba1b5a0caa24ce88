import { createCipheriv, createDecipheriv, createHash, createHmac, randomInt } from 'node:crypto';

/**
 * DingTalk's side of the HTTP push crypto (docs/dingtalk-protocol.md §3.1, §3.4, §4.3-4.5), written here
 * from the protocol text rather than shared with the bot, so a bug on one side shows up.
 */

export interface EventKeys {
  token: string;
  /** The 43-character aes_key from the event subscription page. */
  aesKey: string;
  /** AppKey (clientId) for console-configured subscriptions (docs/dingtalk-protocol.md §4.9). */
  ownerKey: string;
}

const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export function nonce(length = 16): string {
  let out = '';
  for (let i = 0; i < length; i++) out += LETTERS[randomInt(LETTERS.length)];
  return out;
}

function aes(aesKey: string): { key: Buffer; iv: Buffer } {
  const key = Buffer.from(`${aesKey}=`, 'base64');
  if (key.length !== 32) throw new Error('aes_key must decode to 32 bytes (43 base64 characters)');
  return { key, iv: key.subarray(0, 16) };
}

/** `msg_signature`: SHA-1 hex of the four strings sorted and joined. */
export function eventSignature(
  token: string,
  timestamp: string,
  nonceValue: string,
  encrypt: string,
): string {
  const parts = [token, timestamp, nonceValue, encrypt];
  parts.sort();
  return createHash('sha1').update(parts.join('')).digest('hex');
}

export function encryptEvent(keys: EventKeys, message: string, random = nonce(16)): string {
  const { key, iv } = aes(keys.aesKey);
  const msg = Buffer.from(message, 'utf8');
  const header = Buffer.alloc(20);
  header.write(random, 0, 16, 'latin1');
  header.writeUInt32BE(msg.length, 16);
  const unpadded = Buffer.concat([header, msg, Buffer.from(keys.ownerKey, 'utf8')]);
  // DingTalk pads to 32 bytes (vectors 1 and 3 re-encrypt byte-identically only so).
  const padLength = 32 - (unpadded.length % 32);
  const padded = Buffer.concat([unpadded, Buffer.alloc(padLength, padLength)]);
  const cipher = createCipheriv('aes-256-cbc', key, iv);
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(padded), cipher.final()]).toString('base64');
}

/** Decrypts and returns the message and the owner key found after it (checked by the caller). */
export function decryptEvent(aesKey: string, encrypt: string): { message: string; ownerKey: string } {
  const { key, iv } = aes(aesKey);
  const decipher = createDecipheriv('aes-256-cbc', key, iv);
  decipher.setAutoPadding(false);
  const plain = Buffer.concat([decipher.update(Buffer.from(encrypt, 'base64')), decipher.final()]);
  const padLength = plain[plain.length - 1] ?? 0;
  const body = padLength >= 1 && padLength <= 32 ? plain.subarray(0, plain.length - padLength) : plain;
  const length = body.readUInt32BE(16);
  return {
    message: body.subarray(20, 20 + length).toString('utf8'),
    ownerKey: body.subarray(20 + length).toString('utf8'),
  };
}

/** The robot callback `sign` header: Base64(HmacSHA256(appSecret, timestamp + "\n" + appSecret)). */
export function robotSign(timestamp: string, appSecret: string): string {
  return createHmac('sha256', appSecret).update(`${timestamp}\n${appSecret}`).digest('base64');
}

/** The card callback `x-ddpaas-signature`: Base64(HmacSHA256(apiSecret, timestamp)). */
export function cardSign(timestamp: string, apiSecret: string): string {
  return createHmac('sha256', apiSecret).update(timestamp).digest('base64');
}
