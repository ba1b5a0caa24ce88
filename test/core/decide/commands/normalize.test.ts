import { describe, expect, it } from 'vitest';
import { MAX_INPUT_CHARS, normalizeInput } from '../../../../core/decide/commands/normalize.js';

describe('normalizeInput', () => {
  it('turns full-width letters, digits and punctuation into ASCII', () => {
    expect(normalizeInput('ａｃｋ　１２')).toBe('ack 12');
    expect(normalizeInput('silence add env＝prod ２ｈ')).toBe('silence add env=prod 2h');
    expect(normalizeInput('时间：１０：３０，好')).toBe('时间:10:30,好');
  });

  it('maps CJK and smart quotes to ASCII quotes', () => {
    expect(normalizeInput('note “disk full” ‘x’ 「a b」 『c』')).toBe('note "disk full" \'x\' "a b" "c"');
  });

  it('turns an em dash, and the IME double em dash, into --', () => {
    expect(normalizeInput('resolve 12 —note done')).toBe('resolve 12 --note done');
    expect(normalizeInput('resolve 12 ——note done')).toBe('resolve 12 --note done');
  });

  it('maps DingTalk mention spacing (U+2005) and other Unicode spaces to plain spaces', () => {
    expect(normalizeInput('ack\u200512\u00a0--force')).toBe('ack 12 --force');
  });

  it('removes control, zero-width and bidi characters but keeps newlines', () => {
    expect(normalizeInput('pi\u0000ng\u200b\u202e\u0007')).toBe('ping');
    expect(normalizeInput('note line1\nline2')).toBe('note line1\nline2');
    expect(normalizeInput('a\tb\rc')).toBe('a b c');
  });

  it('keeps Chinese text intact and trims', () => {
    expect(normalizeInput('  帮助  ')).toBe('帮助');
  });

  it('bounds huge input', () => {
    expect(normalizeInput('x'.repeat(MAX_INPUT_CHARS * 3)).length).toBe(MAX_INPUT_CHARS);
    expect(normalizeInput('ｘ'.repeat(MAX_INPUT_CHARS * 3)).length).toBe(MAX_INPUT_CHARS);
  });
});
