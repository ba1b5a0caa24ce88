import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

/**
 * Whether a browser's request may use the simulator's page and APIs. The simulator has no
 * login (it is a local tool), so a web page elsewhere must not drive it from the developer's
 * browser: a request a browser sends cross-site (its `Origin` is not this host) is refused,
 * and so is one addressed to a DNS name other than `localhost` (DNS rebinding points an
 * attacker's name at 127.0.0.1, and the browser then thinks it same-origin). Programs (the
 * bot, tests, `dingops chat`) send neither header and are not affected; a browser reaching the
 * simulator by another name can use its IP address.
 */
export function browserAllowed(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  const fromBrowser = origin !== undefined || req.headers['sec-fetch-site'] !== undefined;
  if (!fromBrowser) return true;
  const host = req.headers.host ?? '';
  const name = host.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
  if (name !== 'localhost' && !isIP(name)) return false;
  return origin === undefined || origin === `http://${host}`;
}
