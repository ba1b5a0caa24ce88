import { z } from 'zod';
import { parseDuration } from '../util/duration.js';

/**
 * A config duration written as in commands (`30s`, `5m`, `4h`), parsed to milliseconds,
 * with a clear message for anything else. For plugin config schemas.
 */
export const durationSetting = (fallback: string) =>
  z
    .string({
      // A bare number (`groupWait: 30`) has no unit: say what is expected, not "expected string".
      error: (issue) =>
        typeof issue.input === 'number'
          ? `expected a duration like 30s (a number needs a unit: ${issue.input}s, ${issue.input}m, ${issue.input}h), got ${issue.input}`
          : `expected a duration like 30s, 5m or 4h`,
    })
    .default(fallback)
    .transform((s, ctx) => {
      const ms = parseDuration(s);
      if (ms === undefined) {
        ctx.addIssue({ code: 'custom', message: `expected a duration such as 30s, 5m or 4h, got '${s}'` });
        return z.NEVER;
      }
      return ms;
    });
