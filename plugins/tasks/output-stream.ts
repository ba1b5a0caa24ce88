import { type SecretRedactor, StreamRedactor } from 'dingops';

/** The most of a run's output a card shows (DingTalk takes 10,000 bytes per streaming update). */
export const STREAM_TAIL_BYTES = 6000;

/**
 * Coalesces a run's output into card updates: at most one every `intervalMs`, never two in
 * flight, the latest text winning, so a task printing thousands of lines costs a handful of
 * DingTalk calls. `finish` always sends the final text. The output is redacted as one
 * stream before anything is cut or shown: no update carries part of a secret.
 */
export class OutputStream {
  /** The end of the redacted output, as the card shows it. */
  private text = '';
  private readonly redacting: StreamRedactor;
  private dirty = false;
  private last = 0;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private finished = false;
  /** False once the card turned out unable to stream (it went out as markdown). */
  streaming = true;

  constructor(
    private readonly send: (text: string, final: boolean, error: boolean) => Promise<boolean>,
    private readonly intervalMs: number,
    private readonly onError: (err: unknown) => void,
    redactor: SecretRedactor,
    private readonly now: () => number = Date.now,
  ) {
    this.redacting = new StreamRedactor(redactor);
  }

  /** Raw output as the program wrote it. */
  push(chunk: string): void {
    if (this.closed) return;
    this.redacting.push(chunk);
    if (this.redacting.heavy) this.release();
    if (this.finished || !this.streaming) return;
    this.dirty = true;
    this.schedule();
  }

  private closed = false;

  /** Moves what is safe to show from the redactor into the card's text. */
  private release(): void {
    const more = this.redacting.release();
    if (more) this.text = tail(this.text + more, STREAM_TAIL_BYTES);
  }

  /** The redacted output released so far (what is stored while the run goes on). */
  get output(): string {
    return this.redacting.all;
  }

  /**
   * The program ended: the rest is released and the whole redacted output returned.
   * `cut`: the output limit cut it off (a secret cut in half at the end is masked).
   */
  close(cut: boolean): string {
    if (!this.closed) this.redacting.release(true, cut);
    this.closed = true;
    return this.redacting.all;
  }

  private schedule(): void {
    if (this.timer || this.inFlight || this.finished) return;
    const wait = Math.max(0, this.last + this.intervalMs - this.now());
    this.timer = setTimeout(() => this.flush(), wait);
    this.timer.unref();
  }

  private flush(): void {
    this.timer = undefined;
    if (!this.dirty || this.finished) return;
    this.dirty = false;
    this.last = this.now();
    this.release();
    this.inFlight = this.send(this.text, false, false)
      .then((ok) => {
        if (!ok) this.streaming = false;
      })
      .catch(this.onError)
      .finally(() => {
        this.inFlight = undefined;
        if (this.dirty) this.schedule();
      });
  }

  /** Stops the updates and sends the final text; resolves to whether the card took it. */
  async finish(text: string, error: boolean): Promise<boolean> {
    this.finished = true;
    clearTimeout(this.timer);
    await this.inFlight;
    return this.send(text, true, error);
  }
}

/** The last `max` bytes of a text, cut at a line start when one is near. */
export function tail(text: string, max: number): string {
  const buf = Buffer.from(text);
  if (buf.length <= max) return text;
  let cut = buf
    .subarray(buf.length - max)
    .toString('utf8')
    .replace(/^\uFFFD+/, '');
  const nl = cut.indexOf('\n');
  if (nl >= 0 && nl < 200) cut = cut.slice(nl + 1);
  return cut;
}
