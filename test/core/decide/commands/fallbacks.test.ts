import { describe, expect, it } from 'vitest';
import { type FallbackContext, FallbackHandlers } from '../../../../core/decide/commands/fallbacks.js';

describe('fallback handlers', () => {
  it('run in order; each may pass with next(); the first that does not pass takes the message', async () => {
    const f = new FallbackHandlers();
    const seen: string[] = [];
    const removeLate = f.add('late', async () => void seen.push('late'), 10);
    f.add('passes', async (_c, next) => {
      seen.push('passes');
      await next();
    });
    const removeEarly = f.add(
      'early',
      async (_c, next) => {
        seen.push('early');
        await next();
      },
      -5,
    );
    const ctx = {} as FallbackContext;
    expect(await f.run(ctx)).toBe('late');
    expect(seen).toEqual(['early', 'passes', 'late']);
    removeEarly();
    removeLate();
    seen.length = 0;
    expect(await f.run(ctx)).toBeUndefined();
    expect(seen).toEqual(['passes']);
  });
});
