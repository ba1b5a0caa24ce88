import { createHmac } from 'node:crypto';
import { sameSecretText } from '../../util/constant-time.js';

/**
 * DingTalk's documented rule: a robot callback's timestamp may be up to an hour from the
 * receiver's clock (docs/dingtalk-protocol.md §3.1). We accept the same hour, so a bot whose
 * clock is minutes off, or a push DingTalk sends again, is not refused (the doctor warns about
 * skew from one minute). The signature covers the timestamp, not the body: each pair is also
 * accepted with one body only, for as long as it could verify (ReplayGuard).
 */
export const ROBOT_SIGN_WINDOW_MS = 60 * 60_000;

/** `Base64(HmacSHA256(appSecret, timestamp + "\n" + appSecret))`, the `sign` header of robot callbacks. */
export function robotCallbackSign(timestamp: string, appSecret: string): string {
  return createHmac('sha256', appSecret).update(`${timestamp}\n${appSecret}`, 'utf8').digest('base64');
}

export type RobotSignatureCheck =
  | { ok: true }
  | {
      ok: false;
      reason: 'missing-headers' | 'bad-timestamp' | 'stale-timestamp' | 'bad-sign';
      detail: string;
    };

/**
 * Checks the `timestamp` and `sign` headers of a robot message callback. The signature
 * covers only the timestamp, not the body: the narrow window and accepting each pair once
 * (done by the caller) are what stop a captured pair from carrying another body.
 */
export function checkRobotSignature(
  timestamp: string | undefined,
  sign: string | undefined,
  appSecret: string,
  now = Date.now(),
): RobotSignatureCheck {
  if (!timestamp || !sign)
    return { ok: false, reason: 'missing-headers', detail: 'the timestamp and sign headers are required' };
  if (!/^\d{1,16}$/.test(timestamp))
    return { ok: false, reason: 'bad-timestamp', detail: 'timestamp is not a millisecond epoch' };
  const skew = Math.abs(now - Number(timestamp));
  if (skew > ROBOT_SIGN_WINDOW_MS)
    return {
      ok: false,
      reason: 'stale-timestamp',
      detail: `timestamp is ${Math.round(skew / 60_000)} min away from this server's clock (limit ${ROBOT_SIGN_WINDOW_MS / 60_000} min; check the clock)`,
    };
  if (!sameSecretText(sign, robotCallbackSign(timestamp, appSecret)))
    return {
      ok: false,
      reason: 'bad-sign',
      detail: 'sign does not match (is dingtalk.clientSecret the secret of this app?)',
    };
  return { ok: true };
}
