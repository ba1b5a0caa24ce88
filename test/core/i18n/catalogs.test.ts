import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { en } from '../../../core/i18n/catalog/en.js';
import { zhCN } from '../../../core/i18n/catalog/zh-CN.js';
import { I18n, placeholders } from '../../../core/i18n/i18n.js';
import { BUILTIN_PLUGIN_DIR, importPlugin } from '../../../core/plugins/plugin-resolver.js';

function compare(name: string, a: Record<string, string>, b: Record<string, string>) {
  expect(Object.keys(a).sort(), `${name}: same keys in en and zh-CN`).toEqual(Object.keys(b).sort());
  for (const k of Object.keys(a))
    expect(placeholders(b[k]!), `${name}: placeholders of ${k}`).toEqual(placeholders(a[k]!));
}

describe('i18n', () => {
  it('the core catalog is complete in zh-CN and en with matching placeholders', () => {
    compare('core', en, zhCN);
  });

  it('every built-in plugin catalog is complete in both locales', async () => {
    const names = readdirSync(BUILTIN_PLUGIN_DIR, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) {
      const def = await importPlugin(name, undefined, process.cwd());
      compare(name, def.i18n?.en ?? {}, def.i18n?.['zh-CN'] ?? {});
    }
  });

  it('interpolates, falls back to English, then to the key', () => {
    const i = new I18n('zh-CN');
    i.add({ en: { a: 'A {x}', b: 'only en' }, 'zh-CN': { a: '甲 {x}' } });
    expect(i.t('a', { x: 1 })).toBe('甲 1');
    expect(i.t('b')).toBe('only en');
    expect(i.t('missing.key')).toBe('missing.key');
    expect(i.t('a', {}, 'en')).toBe('A {x}');
    expect(i.text({ en: 'hi', 'zh-CN': '嗨' })).toBe('嗨');
  });
});
