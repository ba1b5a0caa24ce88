import { describe, expect, it } from 'vitest';
import { MAX_TOKENS, TokenizeError, tokenize } from '../../../../core/decide/commands/tokenize.js';

const values = (s: string) => tokenize(s).map((t) => t.value);

describe('tokenize', () => {
  it('splits on any whitespace', () => {
    expect(values('  a  b\nc ')).toEqual(['a', 'b', 'c']);
  });

  it('keeps : = URLs and times inside values', () => {
    expect(values('silence add alertname=Disk env=~prod.* 10:30 https://x.example/a?b=1&c=2#f')).toEqual([
      'silence',
      'add',
      'alertname=Disk',
      'env=~prod.*',
      '10:30',
      'https://x.example/a?b=1&c=2#f',
    ]);
  });

  it('supports double quotes with escapes, single quotes literally, and quotes inside words', () => {
    expect(values('say "a \\"b\\" c" \'d \\e\' --note="x y" it\\ s')).toEqual([
      'say',
      'a "b" c',
      'd \\e',
      '--note=x y',
      'it s',
    ]);
  });

  it('marks quoted tokens so "--x" stays a value', () => {
    const toks = tokenize('run "--rm" --rm');
    expect(toks.map((t) => t.quoted)).toEqual([false, true, false]);
  });

  it('keeps an empty quoted string as a token', () => {
    expect(values('set name ""')).toEqual(['set', 'name', '']);
  });

  it('reports where an unbalanced quote opens', () => {
    try {
      tokenize('note "never closed');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(TokenizeError);
      expect((e as TokenizeError).code).toBe('unclosedQuote');
      expect((e as TokenizeError).position).toBe(5);
    }
    expect(() => tokenize("a 'b")).toThrow(TokenizeError);
  });

  it('refuses absurd token counts instead of building huge arrays', () => {
    expect(() => tokenize('a '.repeat(MAX_TOKENS + 5))).toThrow(TokenizeError);
  });

  it('records offsets into the input', () => {
    const [a, b] = tokenize('ab  "c d"');
    expect([a!.start, a!.end, b!.start, b!.end]).toEqual([0, 2, 4, 9]);
  });
});
