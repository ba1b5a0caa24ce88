import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { systemTimezone } from '../../../core/util/system-timezone.js';

const intl = Intl.DateTimeFormat().resolvedOptions().timeZone;

describe('systemTimezone', () => {
  it('reads TZ when it names a zone', () => {
    expect(systemTimezone({ TZ: 'Asia/Shanghai' })).toBe('Asia/Shanghai');
    expect(systemTimezone({ TZ: ':America/Argentina/Buenos_Aires' })).toBe('America/Argentina/Buenos_Aires');
    expect(systemTimezone({ TZ: 'UTC' })).toBe('UTC');
  });

  it('reads the /etc/localtime link when TZ is not set', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dingops-tz-'));
    const link = join(dir, 'localtime');
    symlinkSync('/usr/share/zoneinfo/Europe/Berlin', link);
    expect(systemTimezone({}, link)).toBe('Europe/Berlin');
  });

  it('asks Intl for what it cannot read: a POSIX rule, a copied file, no file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dingops-tz-'));
    const copied = join(dir, 'localtime');
    writeFileSync(copied, 'TZif2');
    expect(systemTimezone({ TZ: 'CST-8' })).toBe(intl);
    expect(systemTimezone({}, copied)).toBe(intl);
    expect(systemTimezone({}, join(dir, 'missing'))).toBe(intl);
  });
});
