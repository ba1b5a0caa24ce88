import { createHmac } from 'node:crypto';

/** The key cards name to reach our HTTP card callback URL (one per app). */
export function cardRouteKey(clientId: string): string {
  return `dingops-${clientId}`.slice(0, 64);
}

/**
 * The secret DingTalk signs card callbacks with. Derived from the app secret so every
 * replica computes the same one without storing it; the app secret itself is never sent.
 */
export function cardApiSecret(clientSecret: string): string {
  return createHmac('sha256', clientSecret).update('dingops card callbacks').digest('base64url').slice(0, 32);
}
