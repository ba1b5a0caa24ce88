import type { OutboundContent } from '../../cards/card.js';
import type { SendOptions, SendReceipt } from '../../deliver/messenger.js';
import type { Locale } from '../../i18n/i18n.js';
import type { InboundMessage } from '../../messages/inbound.js';
import { token } from '../../util/di-token.js';
import type { Disposer } from '../../util/disposer.js';
import type { Caller } from './spec.js';

/** What a fallback handler gets: a message that is no command, and a way to answer it. */
export interface FallbackContext {
  message: InboundMessage;
  caller: Caller;
  locale: Locale;
  t: (key: string, vars?: Record<string, unknown>) => string;
  reply(content: OutboundContent, options?: SendOptions): Promise<SendReceipt>;
}

/**
 * Handles a message that matched no command (free text: "机器人不回复怎么办"). Call `next()` to
 * pass it to the next handler (the last one answers "unknown command"); not calling it means
 * the message was handled.
 */
export type FallbackHandler = (ctx: FallbackContext, next: () => Promise<void>) => void | Promise<void>;

interface Entry {
  owner: string;
  order: number;
  fn: FallbackHandler;
}

/**
 * The handlers for messages that are not commands, in order (lower `order` first, then in
 * registration order), like Koishi's middleware or Bolt's `app.message`. A near-miss of a
 * command ("pnig") never gets here: it gets its did-you-mean.
 */
export class FallbackHandlers {
  private entries: Entry[] = [];

  add(owner: string, fn: FallbackHandler, order = 0): Disposer {
    const entry = { owner, order, fn };
    this.entries = [...this.entries, entry].sort((a, b) => a.order - b.order);
    return () => {
      this.entries = this.entries.filter((e) => e !== entry);
    };
  }

  get size(): number {
    return this.entries.length;
  }

  /** Runs the chain; resolves to the owner of the handler that took the message, or undefined. */
  async run(ctx: FallbackContext): Promise<string | undefined> {
    const chain = this.entries;
    let taken: string | undefined;
    const step = async (i: number): Promise<void> => {
      const entry = chain[i];
      if (!entry) return;
      let passed = false;
      await entry.fn(ctx, async () => {
        passed = true;
        await step(i + 1);
      });
      if (!passed) taken ??= entry.owner;
    };
    await step(0);
    return taken;
  }
}

/** The DI token of the FallbackHandlers. */
export const FallbacksToken = token<FallbackHandlers>('Fallbacks');
