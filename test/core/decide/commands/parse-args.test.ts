import { describe, expect, it } from 'vitest';
import { ParseError, parseArgs } from '../../../../core/decide/commands/parse-args.js';
import type { OptionSpec, ValueSpec } from '../../../../core/decide/commands/spec.js';
import { tokenize } from '../../../../core/decide/commands/tokenize.js';

function parse(
  input: string,
  args: ValueSpec[],
  options: OptionSpec[] = [],
  mentions: Array<{ userId?: string; dingtalkId: string }> = [],
) {
  return parseArgs({ args, options, tokens: tokenize(input), input, mentions }).values;
}
function error(input: string, args: ValueSpec[], options: OptionSpec[] = []): ParseError {
  try {
    parse(input, args, options);
  } catch (e) {
    if (e instanceof ParseError) return e;
    throw e;
  }
  throw new Error('expected a ParseError');
}

describe('parseArgs', () => {
  it('converts typed positionals', () => {
    const v = parse('12 1.5 90m high', [
      { name: 'id', type: 'int' },
      { name: 'ratio', type: 'number' },
      { name: 'for', type: 'duration' },
      { name: 'level', type: 'enum', choices: ['low', 'high'] },
    ]);
    expect(v).toEqual({ id: 12, ratio: 1.5, for: 90 * 60_000, level: 'high' });
  });

  it('parses long, short, = and negated options anywhere', () => {
    const opts: OptionSpec[] = [
      { name: 'note', type: 'string' },
      { name: 'limit', short: 'n', type: 'int' },
      { name: 'force', type: 'boolean' },
      { name: 'notify', type: 'boolean', default: true },
    ];
    expect(
      parse('--note "disk full" 7 -n 5 --force --no-notify', [{ name: 'id', type: 'int' }], opts),
    ).toEqual({
      id: 7,
      note: 'disk full',
      limit: 5,
      force: true,
      notify: false,
    });
    expect(parse('--note=a=b:c 7', [{ name: 'id', type: 'int' }], opts)).toMatchObject({
      note: 'a=b:c',
      force: false,
      notify: true,
    });
  });

  it('takes values starting with - after --, and negative numbers where numbers are expected', () => {
    expect(
      parse('-- -rf /', [
        { name: 'a', type: 'string' },
        { name: 'b', type: 'string' },
      ]),
    ).toEqual({ a: '-rf', b: '/' });
    expect(parse('-5', [{ name: 'n', type: 'int' }])).toEqual({ n: -5 });
  });

  it('rejects an unknown option with a suggestion, instead of taking it as a value', () => {
    const e = error('7 --forse', [{ name: 'id', type: 'int' }], [{ name: 'force', type: 'boolean' }]);
    expect(e.code).toBe('unknownOptionSuggest');
    expect(e.vars).toMatchObject({ option: '--forse', suggestion: '--force' });
    expect(error('-rf', [{ name: 'x', type: 'string' }]).code).toBe('unknownOption');
  });

  it('explains each kind of bad value', () => {
    expect(error('abc', [{ name: 'id', type: 'int' }]).code).toBe('invalidInt');
    expect(error('1e999', [{ name: 'x', type: 'number' }]).code).toBe('invalidNumber');
    expect(error('soon', [{ name: 'd', type: 'duration' }]).code).toBe('invalidDuration');
    const choice = error('hihg', [{ name: 'level', type: 'enum', choices: ['low', 'high'] }]);
    expect(choice.code).toBe('invalidChoiceSuggest');
    expect(choice.vars.suggestion).toBe('high');
    expect(error('101', [{ name: 'n', type: 'int', min: 1, max: 100 }]).vars).toMatchObject({
      min: 1,
      max: 100,
    });
    expect(error('3d', [{ name: 'd', type: 'duration', max: 86_400_000 }]).vars).toMatchObject({ max: '1d' });
    expect(error('ab/c', [{ name: 'svc', type: 'string', pattern: /[a-z]+/ }]).code).toBe('patternMismatch');
    expect(error('x'.repeat(11), [{ name: 's', type: 'string', maxLength: 10 }]).code).toBe('tooLong');
    expect(error('', [{ name: 'id', type: 'int' }]).code).toBe('missingArg');
    expect(error('1 2', [{ name: 'id', type: 'int' }]).code).toBe('unexpectedArg');
    expect(error('--note', [], [{ name: 'note', type: 'string' }]).code).toBe('missingOptionValue');
    expect(error('--n 1 --n 2', [], [{ name: 'n', type: 'int' }]).code).toBe('duplicateOption');
  });

  it('anchors patterns to the whole value', () => {
    expect(error('prod;rm', [{ name: 'env', type: 'string', pattern: /prod|dev/ }]).code).toBe(
      'patternMismatch',
    );
    expect(parse('dev', [{ name: 'env', type: 'string', pattern: /prod|dev/ }])).toEqual({ env: 'dev' });
  });

  it('applies defaults and leaves optional values out', () => {
    expect(
      parse('', [
        { name: 'n', type: 'int', default: 10 },
        { name: 'who', type: 'string', required: false },
      ]),
    ).toEqual({ n: 10 });
  });

  it('takes rest-of-line text as typed, options inside it included', () => {
    const args: ValueSpec[] = [
      { name: 'id', type: 'int' },
      { name: 'text', type: 'rest' },
    ];
    const input = '12 rolled back  --force, see https://x/y?z=1';
    expect(parse(input, args)).toEqual({ id: 12, text: 'rolled back  --force, see https://x/y?z=1' });
    expect(parse('12 "quoted whole"', args)).toEqual({ id: 12, text: 'quoted whole' });
  });

  it('collects variadic positionals', () => {
    expect(parse('a=1 b!=2 2h', [{ name: 'm', type: 'string', variadic: true }])).toEqual({
      m: ['a=1', 'b!=2', '2h'],
    });
  });

  it('resolves @mentions from the structured mention list in order', () => {
    const v = parse(
      '@Bob @Carol',
      [
        { name: 'a', type: 'user' },
        { name: 'b', type: 'user' },
      ],
      [],
      [
        { userId: 'bob', dingtalkId: '$:1' },
        { userId: 'carol', dingtalkId: '$:2' },
      ],
    );
    expect(v).toEqual({ a: 'bob', b: 'carol' });
    expect(parse('dave', [{ name: 'u', type: 'user' }])).toEqual({ u: 'dave' });
    expect(error('$(id)', [{ name: 'u', type: 'user' }]).code).toBe('invalidUser');
  });

  it('survives random hostile input with only ParseErrors', () => {
    const alphabet = [
      '-',
      '--',
      '"',
      "'",
      '\\',
      '=',
      ' ',
      'a',
      '1',
      '$(',
      '`',
      '\n',
      '；',
      'é',
      '😀',
      '--x',
      '-n',
    ];
    let seed = 42;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let i = 0; i < 2000; i++) {
      const input = Array.from(
        { length: Math.floor(rnd() * 30) },
        () => alphabet[Math.floor(rnd() * alphabet.length)],
      ).join('');
      try {
        parseArgs({
          args: [
            { name: 'a', type: 'int', required: false },
            { name: 'r', type: 'rest' },
          ],
          options: [
            { name: 'x', type: 'string' },
            { name: 'n', short: 'n', type: 'int' },
          ],
          tokens: tokenize(input),
          input,
          mentions: [],
        });
      } catch (e) {
        if (
          !(e instanceof ParseError) &&
          (e as Error).name !== 'TokenizeError' &&
          (e as Error).constructor.name !== 'TokenizeError'
        )
          throw e;
      }
    }
  });
});
