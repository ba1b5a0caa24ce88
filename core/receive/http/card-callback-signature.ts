import { createHmac } from 'node:crypto';
import { sameSecretText } from '../../util/constant-time.js';

/**
 * How far a card callback's timestamp may be from our clock: DingTalk signs the click as it
 * sends it and wants the answer within 2 s, so the window only covers clock skew (the doctor
 * warns from one minute). Each signature is also accepted only once (ReplayGuard).
 */
export const CARD_SIGN_WINDOW_MS = 5 * 60_000;

/** `Base64(HmacSHA256(apiSecret, timestamp))`: the `x-ddpaas-signature` of HTTP card callbacks (docs/dingtalk-protocol.md §3.4). */
export function cardCallbackSign(timestamp: string, apiSecret: string): string {
  return createHmac('sha256', apiSecret).update(timestamp, 'utf8').digest('base64');
}

export type CardSignatureCheck =
  | { ok: true }
  | { ok: false; reason: 'missing-headers' | 'stale-timestamp' | 'bad-sign'; detail: string };

export function checkCardSignature(
  timestamp: string | undefined,
  signature: string | undefined,
  apiSecret: string,
  now = Date.now(),
): CardSignatureCheck {
  if (!timestamp || !signature)
    return {
      ok: false,
      reason: 'missing-headers',
      detail: 'x-ddpaas-signature-timestamp and x-ddpaas-signature are required',
    };
  // The unit is not documented (docs/dingtalk-protocol.md §3.4 shows `Long.toString(ts)`): seconds are accepted as well as ms.
  const ms = Number(timestamp) < 1e12 ? Number(timestamp) * 1000 : Number(timestamp);
  if (!/^\d{1,16}$/.test(timestamp) || Math.abs(now - ms) > CARD_SIGN_WINDOW_MS)
    return {
      ok: false,
      reason: 'stale-timestamp',
      detail: 'the card callback timestamp is too far from our clock',
    };
  if (!sameSecretText(signature, cardCallbackSign(timestamp, apiSecret)))
    return { ok: false, reason: 'bad-sign', detail: 'x-ddpaas-signature does not match' };
  return { ok: true };
}
