import { openPrivateKey, PRIVATE_KEY_MARK, privateKeyEnd, type SecretRedactor } from './redact.js';

/** A token pattern never spans white space: text is released up to a white space this close to the cut. */
const TOKEN_REACH = 512;
/** An unfinished private key block is held back up to this size, then masked to its END. */
const KEY_HOLD = 64 * 1024;
/** Long enough to hold a split `-----END ... PRIVATE KEY-----` marker. */
const MARKER_TAIL = 80;

/**
 * Redacts text that arrives in pieces (a task's output) so that no piece shows part of a
 * secret: everything received is redacted as one text, and the end that could still be the
 * start of a secret (one less than the longest secret, the token on the last line, an
 * unfinished private key block) is held back until more text or the end arrives.
 * Redaction runs when text is released, not per piece: a program writing a byte at a time
 * costs one pass per release.
 */
export class StreamRedactor {
  private pending = '';
  /** Inside a private key block that was too long to hold: text is dropped until its END. */
  private inKey = false;
  private released = '';

  constructor(private readonly redactor: SecretRedactor) {}

  push(chunk: string): void {
    this.pending += chunk;
  }

  /** Whether enough is held that it should be released now rather than at the next tick. */
  get heavy(): boolean {
    return this.pending.length > KEY_HOLD;
  }

  /**
   * The redacted text that is safe to show now (appended to `all`). `final`: the end of the
   * stream; `cut`: the stream was cut off (an output limit), so a trailing half secret is masked.
   */
  release(final = false, cut = false): string {
    let text = this.pending;
    let out = '';
    if (this.inKey) {
      const end = privateKeyEnd(text);
      if (end < 0) {
        this.pending = final ? '' : text.slice(-MARKER_TAIL);
        return '';
      }
      text = text.slice(end);
      this.inKey = false;
    }
    const open = openPrivateKey(text);
    if (open >= 0 && !final) {
      out = this.redactor.redact(text.slice(0, open));
      if (text.length - open <= KEY_HOLD) this.pending = text.slice(open);
      else {
        out += PRIVATE_KEY_MARK;
        this.inKey = true;
        this.pending = text.slice(-MARKER_TAIL);
      }
      return this.keep(out);
    }
    if (final) {
      this.pending = '';
      const redacted = this.redactor.redact(text);
      return this.keep(cut ? this.redactor.redactCutSecret(redacted) : redacted);
    }
    const at = this.cutPoint(text);
    this.pending = text.slice(at);
    return at > 0 ? this.keep(this.redactor.redact(text.slice(0, at))) : '';
  }

  /**
   * How much of the raw text can be released: not an end that may be the start of a secret
   * (at most the longest secret - 1 characters); not a token on an unfinished last line
   * (tokens never span white space, but `Bearer <token>` does); never through a secret.
   */
  private cutPoint(text: string): number {
    let at = text.length - this.redactor.openSecret(text);
    const space = lastSpace(text, at);
    if (space >= 0 && at - space <= TOKEN_REACH) at = space + 1;
    const bearer = /\bBearer\s+$/i.exec(text.slice(Math.max(0, at - 40), Math.max(0, at)));
    if (bearer) at -= bearer[0].length;
    return Math.max(0, this.redactor.safeCut(text, at));
  }

  /** Everything released so far (redacted). */
  get all(): string {
    return this.released;
  }

  private keep(text: string): string {
    this.released += text;
    return text;
  }
}

/** The index of the last white space before `end`, or -1. */
function lastSpace(text: string, end: number): number {
  for (let i = Math.min(end, text.length) - 1; i >= 0 && i >= end - TOKEN_REACH - 1; i--) {
    const c = text.charCodeAt(i);
    if (c === 32 || c === 10 || c === 9 || c === 13) return i;
  }
  return -1;
}
