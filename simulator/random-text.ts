import { randomFillSync } from 'node:crypto';

/**
 * Random bytes as text (hex, base64url), drawn from a pooled buffer. The simulator mints
 * several ids per message (msgId, frame id, session, request ids); one call into the
 * system's random source per 4 KB instead of one per id keeps a push cheap at thousands
 * of messages a second.
 */
const pool = Buffer.allocUnsafe(4096);
let offset = pool.length;

export function randomText(bytes: number, encoding: 'hex' | 'base64url'): string {
  if (offset + bytes > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const text = pool.toString(encoding, offset, offset + bytes);
  offset += bytes;
  return text;
}
