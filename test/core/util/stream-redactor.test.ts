import { describe, expect, it } from 'vitest';
import { SecretRedactor } from '../../../core/util/redact.js';
import { StreamRedactor } from '../../../core/util/stream-redactor.js';

const SECRET = 'tok-SECRET-abcdef123456';

/** Feeds the pieces, releasing after each (as a card update would), and returns every release. */
function feed(pieces: string[], cut = false): { releases: string[]; all: string } {
  const r = new SecretRedactor();
  r.add(SECRET);
  const s = new StreamRedactor(r);
  const releases: string[] = [];
  for (const p of pieces) {
    s.push(p);
    releases.push(s.release());
  }
  releases.push(s.release(true, cut));
  return { releases, all: s.all };
}

describe('StreamRedactor', () => {
  it('never releases part of a secret written in pieces, and shows what cannot be one at once', () => {
    const { releases, all } = feed(['deploying with tok-SEC', 'RET-abc', 'def123456 done\n']);
    expect(releases[0]).toBe('deploying with ');
    for (const r of releases) expect(r).not.toMatch(/tok-|SECRET|abcdef/);
    expect(all).toBe('deploying with *** done\n');
    // A line that cannot start a secret goes out whole, without waiting for more output.
    expect(feed(['working\n']).releases[0]).toBe('working\n');
  });

  it('holds a token or a Bearer value split across writes until it is whole', () => {
    const { releases, all } = feed([
      'token: ghp_abcdefghij',
      'klmnopqrstuvwxyz0123 ok\nBearer ',
      'abcdefghijkl\n',
    ]);
    for (const r of releases) {
      expect(r).not.toContain('ghp_abc');
      expect(r).not.toContain('abcdefghijkl');
    }
    expect(all).toBe('token: ghp_*** ok\nBearer ***\n');
  });

  it('holds a private key block until its END, and drops a block too long to hold', () => {
    const short = feed([
      'before\n-----BEGIN PRIVATE KEY-----\nMIIE',
      'vQIBADAN\n-----END PRIVATE KEY-----\nafter\n',
    ]);
    for (const r of short.releases) expect(r).not.toContain('MIIE');
    expect(short.all).toBe('before\n[private key redacted]\nafter\n');
    const body = 'A'.repeat(70 * 1024);
    const long = feed([
      'x\n-----BEGIN RSA PRIVATE KEY-----\n',
      body,
      body,
      '\n-----END RSA PRIVATE KEY-----\ny\n',
    ]);
    expect(long.all).toBe('x\n[private key redacted]\ny\n');
  });

  it('masks a secret cut in half by the output limit', () => {
    expect(feed(['limit reached at tok-SECRET-ab'], true).all).toBe('limit reached at ***');
    // Not cut: an ordinary ending stays.
    expect(feed(['the end: tok-'], false).all).toBe('the end: tok-');
  });
});
