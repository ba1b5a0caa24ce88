import type { Mention } from '../../messages/inbound.js';
import { didYouMean } from '../../util/did-you-mean.js';
import { formatDuration, parseDuration } from '../../util/duration.js';
import type { OptionSpec, ValueSpec } from './spec.js';
import type { Token } from './tokenize.js';

/** A parse failure: an i18n key under `parse.` and its variables. */
export class ParseError extends Error {
  constructor(
    readonly code: string,
    readonly vars: Record<string, unknown> = {},
  ) {
    super(code);
  }
}

export interface ParseInput {
  args: readonly ValueSpec[];
  options: readonly OptionSpec[];
  tokens: Token[];
  /** The normalized input the tokens came from (for rest-of-line values). */
  input: string;
  mentions: readonly Mention[];
  /** Options the pipeline itself understands (`--yes`); accepted and returned separately. */
  builtinFlags?: readonly OptionSpec[];
}

export interface ParseResult {
  values: Record<string, unknown>;
  builtins: Record<string, unknown>;
}

const NUMBER_LIKE = /^-\d/;

/**
 * Parses tokens against positional and option specs. Options may appear anywhere
 * before `--`; after it every token is positional, so a value starting with `-` can
 * always be passed. An unknown `-x` is an error (with a suggestion), never silently
 * taken as a value, except a negative number where a number is expected.
 */
export function parseArgs(p: ParseInput): ParseResult {
  const values: Record<string, unknown> = {};
  const builtins: Record<string, unknown> = {};
  const positionals: Token[] = [];
  const mentionQueue = p.mentions.slice();
  const allOptions = p.builtinFlags ? [...p.options, ...p.builtinFlags] : p.options;
  const seen = new Set<string>();
  let endOfOptions = false;
  let restFrom: Token | undefined;
  const restIndex = p.args.findIndex((a) => a.type === 'rest');

  for (let i = 0; i < p.tokens.length; i++) {
    const tok = p.tokens[i];
    if (!tok) break;
    if (
      restIndex >= 0 &&
      positionals.length === restIndex &&
      !isOptionLike(tok, endOfOptions, p, allOptions, positionals.length)
    ) {
      // Rest-of-line: everything from here on, as typed (options inside it are text).
      restFrom = tok;
      break;
    }
    if (!endOfOptions && !tok.quoted && tok.value === '--') {
      endOfOptions = true;
      continue;
    }
    if (!isOptionLike(tok, endOfOptions, p, allOptions, positionals.length)) {
      positionals.push(tok);
      continue;
    }
    const raw = tok.value;
    const eq = raw.startsWith('--') ? raw.indexOf('=') : -1;
    const name = eq > 0 ? raw.slice(2, eq) : raw.startsWith('--') ? raw.slice(2) : raw.slice(1);
    let spec = allOptions.find((o) => (raw.startsWith('--') ? o.name === name : o.short === name));
    let negated = false;
    if (!spec && raw.startsWith('--no-')) {
      spec = allOptions.find((o) => o.type === 'boolean' && o.name === name.slice(3));
      negated = !!spec;
    }
    if (!spec) {
      const suggestion = didYouMean(
        name,
        allOptions.map((o) => o.name),
        1,
      )[0];
      throw new ParseError(suggestion ? 'unknownOptionSuggest' : 'unknownOption', {
        option: raw.split('=')[0],
        suggestion: `--${suggestion}`,
      });
    }
    if (seen.has(spec.name) && !spec.variadic)
      throw new ParseError('duplicateOption', { option: `--${spec.name}` });
    seen.add(spec.name);
    const target = p.builtinFlags?.includes(spec) ? builtins : values;
    if (spec.type === 'boolean') {
      if (eq > 0) target[spec.name] = convertBoolean(spec, raw.slice(eq + 1));
      else target[spec.name] = !negated;
      continue;
    }
    let text: string;
    if (eq > 0) text = raw.slice(eq + 1);
    else {
      const next = p.tokens[++i];
      if (!next) throw new ParseError('missingOptionValue', { option: `--${spec.name}` });
      text = next.value;
    }
    const converted = convert(spec, text, mentionQueue);
    if (spec.variadic)
      target[spec.name] = [...((target[spec.name] as unknown[] | undefined) ?? []), converted];
    else target[spec.name] = converted;
  }

  let pi = 0;
  for (const spec of p.args) {
    if (spec.type === 'rest') {
      if (restFrom) values[spec.name] = restText(p.input, restFrom, p.tokens);
      continue;
    }
    if (spec.variadic) {
      const items = positionals.slice(pi).map((t) => convert(spec, t.value, mentionQueue));
      pi = positionals.length;
      if (!items.length && isRequired(spec)) throw new ParseError('missingArg', { name: spec.name });
      values[spec.name] = items;
      continue;
    }
    const tok = positionals[pi];
    if (tok) {
      values[spec.name] = convert(spec, tok.value, mentionQueue);
      pi++;
    }
  }
  if (pi < positionals.length) throw new ParseError('unexpectedArg', { value: positionals[pi]?.value ?? '' });

  for (const spec of p.args) {
    if (values[spec.name] !== undefined) continue;
    if (spec.default !== undefined) values[spec.name] = spec.default;
    else if (isRequired(spec)) throw new ParseError('missingArg', { name: spec.name });
  }
  for (const spec of p.options) {
    if (values[spec.name] !== undefined) continue;
    if (spec.default !== undefined) values[spec.name] = spec.default;
    else if (spec.type === 'boolean') values[spec.name] = false;
    else if (spec.variadic) values[spec.name] = [];
    else if (spec.required) throw new ParseError('missingOption', { option: `--${spec.name}` });
  }
  return { values, builtins };
}

function isRequired(spec: ValueSpec): boolean {
  return spec.required !== false && spec.default === undefined;
}

function isOptionLike(
  tok: Token,
  endOfOptions: boolean,
  p: ParseInput,
  options: readonly OptionSpec[],
  positionalIndex: number,
): boolean {
  if (endOfOptions || tok.quoted || tok.value.length < 2 || tok.value[0] !== '-') return false;
  if (tok.value === '--') return true;
  if (NUMBER_LIKE.test(tok.value)) {
    // `-5` is a value when a number is expected here and no option is called `5`.
    const expected = p.args[positionalIndex];
    const numeric = expected && (expected.type === 'int' || expected.type === 'number');
    if (numeric && !options.some((o) => o.short === tok.value.slice(1))) return false;
  }
  return true;
}

function restText(input: string, from: Token, tokens: Token[]): string {
  // `from` is one of `tokens`: there is a last one.
  const last = tokens.at(-1) ?? from;
  // One quoted token: the user quoted the whole rest, take its unquoted value.
  if (from === last && from.quoted) return from.value;
  return input.slice(from.start, last.end).trim();
}

function convertBoolean(spec: ValueSpec, text: string): boolean {
  const v = text.toLowerCase();
  if (['true', 'yes', 'on', '1'].includes(v)) return true;
  if (['false', 'no', 'off', '0'].includes(v)) return false;
  throw new ParseError('invalidBoolean', { name: spec.name, value: text });
}

function convert(spec: ValueSpec, text: string, mentions: Mention[]): unknown {
  switch (spec.type) {
    case 'int': {
      if (!/^-?\d{1,15}$/.test(text)) throw new ParseError('invalidInt', { name: spec.name, value: text });
      return checkRange(spec, Number(text), text);
    }
    case 'number': {
      const n = Number(text);
      if (text.trim() === '' || !Number.isFinite(n))
        throw new ParseError('invalidNumber', { name: spec.name, value: text });
      return checkRange(spec, n, text);
    }
    case 'duration': {
      const ms = parseDuration(text);
      if (ms === undefined) throw new ParseError('invalidDuration', { name: spec.name, value: text });
      return checkRange(spec, ms, text);
    }
    case 'enum': {
      const choices = spec.choices ?? [];
      const hit = choices.find((c) => c.toLowerCase() === text.toLowerCase());
      if (hit === undefined) {
        const suggestion = didYouMean(text, choices, 1)[0];
        throw new ParseError(suggestion ? 'invalidChoiceSuggest' : 'invalidChoice', {
          name: spec.name,
          value: text,
          choices: choices.join(', '),
          suggestion,
        });
      }
      return hit;
    }
    case 'boolean':
      return convertBoolean(spec, text);
    case 'user': {
      if (text.startsWith('@')) {
        const m = mentions.shift();
        if (m?.userId) return m.userId;
        if (text.length > 1) return text.slice(1);
      } else if (/^[\w.$:+=/-]{1,64}$/.test(text)) return text;
      throw new ParseError('invalidUser', { name: spec.name, value: text });
    }
    default: {
      if (spec.maxLength !== undefined && text.length > spec.maxLength)
        throw new ParseError('tooLong', { name: spec.name, max: spec.maxLength });
      if (spec.pattern && !anchored(spec.pattern).test(text)) {
        throw new ParseError('patternMismatch', { name: spec.name, value: text });
      }
      return text;
    }
  }
}

function checkRange(spec: ValueSpec, n: number, text: string): number {
  if ((spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max)) {
    const show = (v: number | undefined, none: string) =>
      v === undefined ? none : spec.type === 'duration' ? formatDuration(v) : v;
    throw new ParseError('outOfRange', {
      name: spec.name,
      value: text,
      min: show(spec.min, '-∞'),
      max: show(spec.max, '∞'),
    });
  }
  return n;
}

const ANCHORED = new WeakMap<RegExp, RegExp>();

/** The pattern anchored to the whole value (compiled once per spec pattern). */
function anchored(pattern: RegExp): RegExp {
  let re = ANCHORED.get(pattern);
  if (!re) {
    re = new RegExp(`^(?:${pattern.source})$`, pattern.flags.replace(/[gy]/g, ''));
    ANCHORED.set(pattern, re);
  }
  return re;
}
