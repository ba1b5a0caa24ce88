import { describe, expect, it } from 'vitest';
import { checkRobotSignature, robotCallbackSign } from '../../../../core/receive/http/robot-signature.js';

describe('robot callback signature (docs/dingtalk-protocol.md §3.1)', () => {
  const now = 1_700_000_000_000;

  it('matches the documented vector', () => {
    expect(robotCallbackSign('1700000000000', 'this is secret')).toBe(
      'sSFWELbV2YwjdDQhWZwTcWlX5BWUx5J6TPpsZmuPii0=',
    );
  });

  it('accepts a fresh correct sign and refuses the rest with a reason', () => {
    const sign = robotCallbackSign(String(now), 'secret');
    // DingTalk's documented hour either way: a clock minutes off, or a re-push, is accepted.
    expect(checkRobotSignature(String(now), sign, 'secret', now + 6 * 60_000)).toEqual({ ok: true });
    expect(checkRobotSignature(String(now), sign, 'secret', now - 59 * 60_000)).toEqual({ ok: true });
    expect(checkRobotSignature(String(now), sign, 'secret', now + 61 * 60_000)).toMatchObject({
      ok: false,
      reason: 'stale-timestamp',
    });
    expect(checkRobotSignature(String(now), sign, 'secret', now - 61 * 60_000)).toMatchObject({
      ok: false,
      reason: 'stale-timestamp',
    });
    expect(checkRobotSignature(String(now), sign, 'other', now)).toMatchObject({ reason: 'bad-sign' });
    expect(checkRobotSignature(undefined, sign, 'secret', now)).toMatchObject({ reason: 'missing-headers' });
    expect(checkRobotSignature('soon', sign, 'secret', now)).toMatchObject({ reason: 'bad-timestamp' });
  });

  it('never puts the secret in a refusal', () => {
    const r = checkRobotSignature(String(now), 'AAAA', 'hunter2-secret', now);
    expect(JSON.stringify(r)).not.toContain('hunter2');
  });
});
