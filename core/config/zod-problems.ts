import type { z } from 'zod';
import { didYouMean } from '../util/did-you-mean.js';
import type { ConfigProblem } from './config-error.js';
import { formatPath } from './config-error.js';
import { knownKeys } from './zod-walk.js';

/**
 * Turns zod issues into problems a person can act on: the YAML path, the line, what
 * was expected, and for unknown keys the closest known key.
 */
export function zodProblems(
  error: z.ZodError,
  schema: unknown,
  options: { prefix?: PropertyKey[]; lineAt: (path: PropertyKey[]) => number | undefined },
): ConfigProblem[] {
  const prefix = options.prefix ?? [];
  const problems: ConfigProblem[] = [];
  for (const issue of error.issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeys(schema, issue.path);
      for (const key of issue.keys) {
        const guess = didYouMean(key, known, 1)[0];
        problems.push({
          path: formatPath([...path, key]),
          message: `unknown key${guess ? `; did you mean '${guess}'?` : known.length ? `; expected one of ${known.join(', ')}` : ''}`,
          line: options.lineAt([...path, key]),
        });
      }
      continue;
    }
    if (
      issue.code === 'invalid_union' &&
      'errors' in issue &&
      Array.isArray(issue.errors) &&
      issue.errors.length
    ) {
      // Report the branch that got furthest rather than "invalid input".
      const best =
        [...(issue.errors as z.core.$ZodIssue[][])].sort((a, b) => maxDepth(b) - maxDepth(a))[0] ?? [];
      const nested = {
        issues: best.map((i) => ({ ...i, path: [...issue.path, ...i.path] })),
      } as unknown as z.ZodError;
      problems.push(...zodProblems(nested, schema, options));
      continue;
    }
    problems.push({
      path: formatPath(path),
      message: humanMessage(issue),
      line: options.lineAt(path) ?? nearestLine(path, options.lineAt),
    });
  }
  return problems;
}

function maxDepth(issues: z.core.$ZodIssue[]): number {
  return Math.max(0, ...issues.map((i) => i.path.length));
}

function nearestLine(
  path: PropertyKey[],
  lineAt: (p: PropertyKey[]) => number | undefined,
): number | undefined {
  for (let n = path.length - 1; n >= 0; n--) {
    const line = lineAt(path.slice(0, n));
    if (line) return line;
  }
  return undefined;
}

function humanMessage(issue: z.core.$ZodIssue): string {
  let msg = issue.message.replace(/^Invalid input: /, '');
  if (issue.code === 'invalid_type' && /received undefined/.test(msg))
    msg = `required: expected ${issue.expected}`;
  else if (issue.code === 'invalid_value') msg = msg.replace(/^Invalid option: /, '');
  return msg;
}
