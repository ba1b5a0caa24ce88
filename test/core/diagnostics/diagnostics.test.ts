import { describe, expect, it } from 'vitest';
import {
  Diagnostics,
  exitCodeOf,
  formatResults,
  resultsJson,
} from '../../../core/diagnostics/diagnostics.js';
import { en } from '../../../core/i18n/catalog/en.js';
import { I18n } from '../../../core/i18n/i18n.js';

function diagnostics(now = () => 1_000_000) {
  const i18n = new I18n('en');
  i18n.add({ en });
  return new Diagnostics(i18n, 'en', now);
}

describe('diagnostics', () => {
  it('turns a crashing check into an error result and keeps running the others', async () => {
    const d = diagnostics();
    d.register('core', {
      id: 'boom',
      run: () => {
        throw new Error('kaput');
      },
    });
    d.register('core', { id: 'fine', run: () => ({ id: 'fine', severity: 'ok', message: 'ok' }) });
    const r = await d.run();
    expect(r).toEqual([
      { id: 'boom', severity: 'error', message: 'the check crashed: kaput' },
      { id: 'fine', severity: 'ok', message: 'ok' },
    ]);
  });

  it('runs slow checks after the quick ones, reporting in registration order', async () => {
    const d = diagnostics();
    const order: string[] = [];
    d.register('core', {
      id: 'slow',
      slow: true,
      run: () => {
        order.push('slow');
        return { id: 'slow', severity: 'ok', message: '' };
      },
    });
    d.register('core', {
      id: 'quick',
      run: () => {
        order.push('quick');
        return { id: 'quick', severity: 'warn', message: '' };
      },
    });
    const r = await d.run();
    expect(order).toEqual(['quick', 'slow']);
    expect(r.map((x) => x.id)).toEqual(['slow', 'quick']);
    expect((await d.run({ only: ['quick'] })).map((x) => x.id)).toEqual(['quick']);
  });

  it('caches probes (a success 10 min, a failure 1 min) unless asked for fresh results', async () => {
    let t = 0;
    const d = diagnostics(() => t);
    let calls = 0;
    let fail = true;
    d.register('core', {
      id: 'p',
      run: async ({ probe }) => {
        try {
          await probe('x', async () => {
            calls++;
            if (fail) throw new Error('down');
            return 1;
          });
          return { id: 'p', severity: 'ok', message: '' };
        } catch {
          return { id: 'p', severity: 'error', message: '' };
        }
      },
    });
    await d.run();
    await d.run();
    expect(calls).toBe(1);
    fail = false;
    t = 61_000;
    expect((await d.run())[0]!.severity).toBe('ok');
    expect(calls).toBe(2);
    t = 61_000 + 9 * 60_000;
    await d.run();
    expect(calls).toBe(2);
    await d.run({ fresh: true });
    expect(calls).toBe(3);
  });

  it('exits 0, 1 or 2 and formats for terminals and scripts', () => {
    const ok = { id: 'a', severity: 'ok' as const, message: 'fine' };
    const warn = { id: 'b', severity: 'warn' as const, message: 'hmm', fix: 'do this' };
    const error = { id: 'c', severity: 'error' as const, message: 'bad', where: 'x.y', fix: 'do that' };
    expect([exitCodeOf([ok]), exitCodeOf([ok, warn]), exitCodeOf([warn, error])]).toEqual([0, 1, 2]);
    const i18n = new I18n('en');
    i18n.add({ en });
    const text = formatResults([ok, error], (k, v) => i18n.t(k, v));
    expect(text).toBe(
      '[✓] a  fine\n[✗] c  bad\n    where: x.y\n    fix: do that\n\nDoctor found 1 error(s) and 0 warning(s).',
    );
    expect(JSON.parse(resultsJson([warn]))).toEqual({ schemaVersion: 1, exitCode: 1, checks: [warn] });
  });
});
