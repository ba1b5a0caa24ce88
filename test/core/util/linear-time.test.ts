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

/**
 * Every path that reads untrusted text runs in linear time: the same hostile input at
 * 100 KB and at 1 MB may take about 10x as long, not 100x. A ratio, not a wall-clock bound,
 * so a busy machine does not decide it; each size takes the best of a few runs.
 */
function ratio(make: (size: number) => string, work: (text: string) => unknown): number {
  // The small input runs 10 times per measurement, so both sides take about as long and a
  // garbage collection or a timer tick weighs the same on each.
  const best = (size: number, times: number) => {
    const text = make(size);
    let min = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      for (let j = 0; j < times; j++) work(text);
      min = Math.min(min, (performance.now() - t0) / times);
    }
    return Math.max(min, 0.01);
  };
  best(10_000, 10); // warm up the code paths and their regexes
  return best(1_000_000, 1) / best(100_000, 10);
}

/** Linear would be about 10; quadratic about 100. */
const LINEAR = 35;

const repeat = (unit: string) => (size: number) => unit.repeat(Math.ceil(size / unit.length)).slice(0, size);

describe('untrusted text is processed in linear time (100 KB vs 1 MB)', () => {
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
