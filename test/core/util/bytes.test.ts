import { describe, expect, it } from 'vitest';
import { truncateMarkdown, truncateUtf8, utf8Length } from '../../../core/util/bytes.js';

describe('byte-aware truncation', () => {
  it('counts UTF-8 bytes like Buffer does', () => {
    for (const s of ['abc', '告警', '😀x', 'é', '']) expect(utf8Length(s)).toBe(Buffer.byteLength(s));
  });

  it('never cuts inside a multi-byte character', () => {
    expect(truncateUtf8('告警告警', 7)).toBe('告警');
    expect(truncateUtf8('a😀b', 4)).toBe('a');
    expect(truncateUtf8('a😀b', 5)).toBe('a😀');
    for (let n = 0; n < 20; n++) {
      const out = truncateUtf8('磁盘😀满了abc', n);
      expect(Buffer.byteLength(out)).toBeLessThanOrEqual(n);
      expect(out).not.toContain('\uFFFD');
      expect(Buffer.from(out).toString()).toBe(out);
    }
  });

  it('never cuts inside a markdown link', () => {
    const md = `see [the runbook](https://wiki.example/runbooks/disk-full) now`;
    for (let n = 5; n < md.length; n++) {
      const out = truncateMarkdown(md, n);
      expect(Buffer.byteLength(out)).toBeLessThanOrEqual(n);
      const open = out.lastIndexOf('[');
      if (open >= 0) expect(out.slice(open)).toMatch(/^\[[^\]]*\]\([^)]*\)/);
    }
  });
});
