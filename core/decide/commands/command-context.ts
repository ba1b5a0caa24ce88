import type { OutboundContent } from '../../cards/card.js';
import type { Messenger, SendOptions, SendReceipt } from '../../deliver/messenger.js';
import type { I18n, Locale } from '../../i18n/i18n.js';
import type { InboundMessage } from '../../messages/inbound.js';
import type { Caller, CommandContext } from './spec.js';

/**
 * The context a command handler receives. `t` and `reply` are created on first use (and
 * stay bound, so `const { t, reply } = ctx` works): most handlers never touch them, and
 * building closures for every message costs the hot path.
 */
export class CommandContextImpl implements CommandContext {
  private boundT?: CommandContext['t'];
  private boundReply?: CommandContext['reply'];

  constructor(
    readonly args: Record<string, unknown>,
    readonly message: InboundMessage,
    readonly caller: Caller,
    readonly command: string,
    readonly locale: Locale,
    private readonly i18n: I18n,
    private readonly messenger: Messenger,
  ) {}

  get t(): CommandContext['t'] {
    this.boundT ??= (key: string, vars?: Record<string, unknown>) => this.i18n.t(key, vars, this.locale);
    return this.boundT;
  }

  get reply(): CommandContext['reply'] {
    this.boundReply ??= (content: OutboundContent, options?: SendOptions): Promise<SendReceipt> =>
      this.messenger.send({ kind: 'reply', to: this.message }, content, options);
    return this.boundReply;
  }
}
