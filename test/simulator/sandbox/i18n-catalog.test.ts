import { describe, expect, it } from 'vitest';
import { CATALOG } from '../../../simulator/sandbox/assets/i18n-catalog.js';

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe("the sandbox page's words", () => {
  it('has every phrase in both languages, with the same placeholders', () => {
    expect(Object.keys(CATALOG['zh-CN']).sort()).toEqual(Object.keys(CATALOG.en).sort());
    for (const [key, en] of Object.entries(CATALOG.en))
      expect(placeholders(CATALOG['zh-CN'][key] ?? ''), key).toEqual(placeholders(en));
  });

  it('names in the page every phrase it has (no key unused, none missing)', async () => {
    const { readFileSync } = await import('node:fs');
    const dir = new URL('../../../simulator/sandbox/assets/', import.meta.url);
    const used = new Set<string>();
    for (const file of ['index.html', 'sandbox.js', 'panel.js', 'cards.js', 'i18n.js']) {
      const text = readFileSync(new URL(file, dir), 'utf8');
      for (const m of text.matchAll(/data-i18n(?:-label|-placeholder)?="([^"]+)"|\bt\(\s*'([^']+)'/g))
        used.add(m[1] ?? m[2] ?? '');
      // Keys chosen between two literals: t(cond ? 'a' : 'b').
      for (const m of text.matchAll(/\?\s*'([\w.]+)'\s*:\s*'([\w.]+)'/g)) {
        used.add(m[1] ?? '');
        used.add(m[2] ?? '');
      }
    }
    const known = new Set(Object.keys(CATALOG.en));
    expect([...used].filter((k) => !known.has(k))).toEqual([]);
    expect([...known].filter((k) => !used.has(k))).toEqual([]);
  });
});
