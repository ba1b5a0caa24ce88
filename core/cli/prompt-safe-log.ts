import { Writable } from 'node:stream';

/**
 * The bot's log while a terminal chat runs in the same terminal (`npm start`): each line
 * first clears the prompt the user may be typing at, is printed (pretty, as on a terminal),
 * and the prompt is drawn again with what was typed, so log lines never draw over it.
 */
export class PromptSafeLog extends Writable {
  /** Draws the prompt again (set by the chat once it runs). */
  redraw: (() => void) | undefined;
  private format: ((line: string) => string) | undefined;

  constructor(
    private readonly out: NodeJS.WritableStream = process.stdout,
    format?: (line: string) => string,
  ) {
    super();
    this.format = format;
  }

  /** pino-pretty's formatter, loaded when a log line first comes. */
  private async formatter(): Promise<(line: string) => string> {
    if (!this.format) {
      try {
        const { prettyFactory } = await import('pino-pretty');
        this.format = prettyFactory({ colorize: true, translateTime: 'HH:MM:ss', ignore: 'pid,hostname' });
      } catch {
        this.format = (line) => line;
      }
    }
    return this.format;
  }

  override _write(chunk: Buffer, _enc: string, done: () => void): void {
    void this.formatter().then((format) => {
      const text = format(chunk.toString('utf8'));
      this.out.write(`\r\x1b[K${text.endsWith('\n') ? text : `${text}\n`}`);
      this.redraw?.();
      done();
    });
  }
}
