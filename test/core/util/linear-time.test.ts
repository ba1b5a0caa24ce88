import { describe, expect, it } from 'vitest';
import { card } from '../../../core/cards/card.js';
import { CardRenderer } from '../../../core/cards/card-renderer.js';
import { mdCode, mdText } from '../../../core/cards/markdown-escape.js';
import { tokenize } from '../../../core/decide/commands/tokenize.js';
import { en } from '../../../core/i18n/catalog/en.js';
import { zhCN } from '../../../core/i18n/catalog/zh-CN.js';
import { I18n } from '../../../core/i18n/i18n.js';
import { redactCommonTokens, SecretRedactor } from '../../../core/util/redact.js';
import { StreamRedactor } from '../../../core/util/stream-redactor.js';
import { parseMatcher } from '../../../plugins/alerts/matchers.js';
import { renderMarkdown } from '../../../simulator/sandbox/assets/markdown.js';
import { LINEAR, ratio, repeat } from '../../helpers/linear-time.js';
import { storeIndependentPass } from '../../helpers/storage.js';

describe.runIf(storeIndependentPass)('untrusted text is processed in linear time (100 KB vs 1 MB)', () => {
  const redactor = new SecretRedactor();
  redactor.add('dingops-demo-secret', 'hunter2-long-secret');

  it('redaction: unclosed private key blocks, Bearer runs, secrets', () => {
    expect(ratio(repeat('-----BEGIN PRIVATE KEY-----\n'), (t) => redactCommonTokens(t))).toBeLessThan(LINEAR);
    expect(ratio(repeat('Bearer     x '), (t) => redactor.redact(t))).toBeLessThan(LINEAR);
    expect(ratio(repeat('hunter2-long-secre'), (t) => redactor.redact(t))).toBeLessThan(LINEAR);
    // The redaction still works on it.
    expect(redactCommonTokens('a\n-----BEGIN PRIVATE KEY-----\nMIIE\n-----BEGIN PRIVATE KEY-----\nb')).toBe(
      'a\n[private key redacted]',
    );
  });

  it('streamed redaction: a program writing hostile output a few bytes at a time', () => {
    const stream = (text: string) => {
      const s = new StreamRedactor(redactor);
      for (let i = 0; i < text.length; i += 7) {
        s.push(text.slice(i, i + 7));
        if (i % 4096 < 7 || s.heavy) s.release();
      }
      return s.release(true);
    };
    expect(ratio(repeat('-----BEGIN PRIVATE KEY-----\n'), stream)).toBeLessThan(LINEAR);
    expect(ratio(repeat('hunter2-long-secrx'), stream)).toBeLessThan(LINEAR);
  });

  it('label matchers: long values with spaces and quotes', () => {
    expect(
      ratio(
        (n) => `a=${' '.repeat(n)}x`,
        (t) => parseMatcher(t),
      ),
    ).toBeLessThan(LINEAR);
    expect(
      ratio(
        (n) => `a="${' \t'.repeat(n / 2)}`,
        (t) => parseMatcher(t),
      ),
    ).toBeLessThan(LINEAR);
  });

  it('markdown escaping and card rendering', () => {
    expect(ratio(repeat('[l](http://e)`*_\n'), (t) => mdText(t, t.length))).toBeLessThan(LINEAR);
    expect(ratio(repeat('`a`\n'), (t) => mdCode(t, t.length))).toBeLessThan(LINEAR);
    const i18n = new I18n('en');
    i18n.add({ en, 'zh-CN': zhCN });
    const renderer = new CardRenderer(i18n, {});
    const render = (t: string) =>
      renderer.render(
        card({
          title: t,
          body: t,
          fields: [{ label: 'x', value: t }],
          sections: [{ items: [t, ...t.slice(0, 20_000).split('\n')] }],
        }),
        { interactive: false },
      );
    expect(ratio(repeat('[l](http://e) **b** `c`\n'), render)).toBeLessThan(LINEAR);
  });

  it("the simulator sandbox's markdown: unclosed and tiny spans, links, fonts, mentions", () => {
    for (const unit of ['*', '**a', '[a](', '`', '<font color=red>', '> - 1. ', '`*[<'])
      expect(
        ratio(repeat(unit), (t) => renderMarkdown(t)),
        unit,
      ).toBeLessThan(LINEAR);
  });

  it('command tokenizer: quotes and escapes', () => {
    expect(ratio(repeat('a\\"'), (t) => tokenize(t))).toBeLessThan(LINEAR);
    expect(
      ratio(
        (n) => `"${'x\\'.repeat(n / 2)}`,
        (t) => {
          try {
            tokenize(t);
          } catch {
            // an unclosed quote is refused; how fast is what is measured
          }
        },
      ),
    ).toBeLessThan(LINEAR);
  });
});
