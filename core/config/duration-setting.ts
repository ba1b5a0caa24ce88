import { z } from 'zod';
import { parseDuration } from '../util/duration.js';

/**
 * A config duration written as in commands (`30s`, `5m`, `4h`), parsed to milliseconds,
 * with a clear message for anything else. For plugin config schemas.
 */
export const durationSetting = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((s, ctx) => {
      const ms = parseDuration(s);
      if (ms === undefined) {
        ctx.addIssue({ code: 'custom', message: `expected a duration such as 30s, 5m or 4h, got '${s}'` });
        return z.NEVER;
      }
      return ms;
    });
