import { timingSafeEqual } from 'node:crypto';

/**
 * Compares a received signature or token with the expected one in constant time, so the
 * time taken says nothing about how much of it was right.
 */
export function sameSecretText(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
