import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import type { InboundMessage } from '../messages/inbound.js';
import type { InboundSink, Transport, TransportState } from './transport.js';

/**
 * Reads commands from a terminal as a direct message from one user: the quickest way to
 * try commands and plugins without DingTalk. Replies are printed by the LocalMessenger.
 */
export class ConsoleTransport implements Transport {
  readonly name = 'console';
  private rl: ReturnType<typeof createInterface> | undefined;
  private current: TransportState = { status: 'idle' };

  constructor(
    private readonly user: { userId: string; nick: string },
    private readonly io: {
      input: NodeJS.ReadableStream;
      output: NodeJS.WritableStream;
      banner?: string;
      onEnd?: () => void;
    },
  ) {}

  async start(sink: InboundSink): Promise<void> {
    this.rl = createInterface({
      input: this.io.input,
      output: this.io.output,
      prompt: `${this.user.nick}> `,
      terminal: (this.io.input as { isTTY?: boolean }).isTTY === true,
    });
    this.current = { status: 'connected', lastFrameAt: Date.now() };
    if (this.io.banner) this.io.output.write(`${this.io.banner}\n`);
    this.rl.prompt();
    this.rl.on('line', (line) => {
      this.current.lastFrameAt = Date.now();
      if (!line.trim()) return this.rl?.prompt();
      const msg: InboundMessage = {
        id: randomUUID(),
        conversation: { id: `console:${this.user.userId}`, type: 'direct' },
        sender: { userId: this.user.userId, nick: this.user.nick, isAdmin: false },
        text: line,
        msgType: 'text',
        mentions: [],
        receivedAt: Date.now(),
        reply: {},
        via: 'console',
      };
      void sink.message(msg).finally(() => this.rl?.prompt());
    });
    this.rl.on('close', () => {
      this.current = { status: 'stopped' };
      this.io.onEnd?.();
    });
  }

  async stop(): Promise<void> {
    this.rl?.close();
    this.current = { status: 'stopped' };
  }

  state(): TransportState {
    return this.current;
  }
}
