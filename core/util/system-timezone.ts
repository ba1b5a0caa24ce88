import { readlinkSync } from 'node:fs';

/** An IANA zone name (`Asia/Shanghai`, `UTC`), not a POSIX rule (`CST-8`). */
const IANA = /^[A-Za-z]+(?:\/[A-Za-z0-9_+-]+)*$/;

/**
 * The machine's timezone (IANA name), from TZ or the /etc/localtime link, as Node itself
 * finds it, without asking Intl: the first Intl.DateTimeFormat pages in ICU's time zone and
 * locale data (~6 MB resident for the life of the process), which an idle bot never needs.
 * Intl answers only when neither says (a POSIX TZ rule, a copied /etc/localtime).
 */
export function systemTimezone(env: NodeJS.ProcessEnv = process.env, localtime = '/etc/localtime'): string {
  const tz = env.TZ?.replace(/^:/, '');
  if (tz && IANA.test(tz)) return tz;
  if (!tz) {
    try {
      const zone = /\/zoneinfo\/(.+)$/.exec(readlinkSync(localtime))?.[1];
      if (zone && IANA.test(zone)) return zone;
    } catch {
      // Not a link (or not there): Intl below.
    }
  }
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}
