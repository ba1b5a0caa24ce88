import { capText } from '../util/cap-text.js';

/**
 * Untrusted text (alert labels and titles, chat text, task output, names) shown in DingTalk
 * markdown. DingTalk documents no escape character for its markdown, so a backslash may show
 * as it is; instead a zero-width space is put before every character that could start
 * inline markup (code, emphasis, links, HTML, strike-through) and inside `://` (no
 * auto-link), which no renderer shows and every renderer reads as text. Line breaks become
 * spaces, so a value never starts a line; a value that starts with a block marker (`#`,
 * `>`, `-`, `1.`) is guarded too, for where it stands first. Linear in the length of the text.
 */
const MARKUP = /[\\`*_[\]<~]|:\/\/|\r\n|[\r\n]/g;
const BLOCK_START = /^(?:[#>+\-|=]|\d+[.)])/;
const ZWSP = '\u200b';

export function mdText(text: string, maxChars = 1000): string {
  const out = capText(text, maxChars).replace(MARKUP, (m) =>
    m === '://' ? `:${ZWSP}//` : m.length > 1 || m === '\n' || m === '\r' ? ' ' : `${ZWSP}${m}`,
  );
  return BLOCK_START.test(out) ? `${ZWSP}${out}` : out;
}

/**
 * Untrusted text as inline code (`value`): a backtick inside would close the span, so it
 * becomes the look-alike `ˋ` (U+02CB); line breaks become spaces.
 */
export function mdCode(text: string, maxChars = 1000): string {
  return `\`${capText(text, maxChars)
    .replace(/`/g, 'ˋ')
    .replace(/\r\n|[\r\n]/g, ' ')}\``;
}
