import type { Logger } from 'pino';
import type { CardRenderer } from '../cards/card-renderer.js';
import { renderInteractive } from '../cards/render-interactive.js';
import type { Messenger } from '../deliver/messenger.js';
import type { Locale } from '../i18n/i18n.js';
import type { Conversation } from '../messages/inbound.js';
import type { ActionResult } from '../messages/outbound.js';
import { decodeCardCallback } from './decode.js';
import type { Inbox } from './inbox.js';
import type { InboundSink } from './transport.js';

export interface CardCallbackOptions {
  /** Card callbacks must be answered within 2 s; handlers get this long before we answer empty. */
  responseBudgetMs?: number;
  locale: Locale;
}

/**
 * Card button clicks, from Stream or HTTP. The answer (the card's new data) must reach
 * DingTalk within 2 s; a handler that takes longer gets an empty answer and its card is
 * updated through the card API when it finishes.
 */
export class CardCallbacks {
  private sink: InboundSink | undefined;

  constructor(
    private readonly options: CardCallbackOptions,
    private readonly inbox: Inbox,
    private readonly messenger: Messenger,
    private readonly renderer: CardRenderer,
    private readonly cardConversation: (cardId: string) => Promise<Conversation | undefined>,
    private readonly log: Logger,
  ) {}

  bind(sink: InboundSink): void {
    this.sink = sink;
  }

  /** Handles one callback payload (PROTOCOL.md 5.6.4); resolves to the response for DingTalk. */
  async handle(data: Record<string, any>, callbackId: string, via: string): Promise<Record<string, unknown>> {
    const action = decodeCardCallback(data, callbackId, via);
    action.conversation = await this.cardConversation(action.cardId).catch(() => undefined);
    const inboxId = `card:${callbackId}`;
    const fresh = await this.inbox.accept(inboxId, 'card', data).catch(() => true);
    if (!fresh) return {};
    const work = this.sink!.action(action).catch((err): ActionResult => {
      this.log.error({ err, action: action.action }, 'card action failed');
      return {};
    });
    const budget = this.options.responseBudgetMs ?? 1_500;
    const timedOut = Symbol('timeout');
    const result = await Promise.race([
      work,
      new Promise<typeof timedOut>((r) => setTimeout(() => r(timedOut), budget).unref()),
    ]);
    if (result === timedOut) {
      void work.then((r) => this.afterAction(action, r, true));
      return {};
    }
    // Answer first; what follows (a message to the clicker) does not hold up the card.
    setImmediate(() => {
      void this.afterAction(action, result, false).then(() =>
        this.inbox.done(inboxId).catch(() => undefined),
      );
    });
    return this.response(result);
  }

  private response(result: ActionResult): Record<string, unknown> {
    if (!result.card) return {};
    const params = renderInteractive(result.card, this.renderer.context(this.options.locale));
    return {
      cardData: { cardParamMap: params },
      cardUpdateOptions: { updateCardDataByKey: true, updatePrivateDataByKey: true },
    };
  }

  private async afterAction(
    action: { cardId: string; user: { userId: string }; conversation?: Conversation },
    result: ActionResult,
    late: boolean,
  ): Promise<void> {
    try {
      if (late && result.card) await this.messenger.updateCard(action.cardId, result.card);
      if (result.message) {
        const to =
          action.conversation?.type === 'group'
            ? { kind: 'group' as const, openConversationId: action.conversation.id }
            : { kind: 'user' as const, userId: action.user.userId };
        await this.messenger.send(to, result.message, { atUserIds: [action.user.userId] });
      }
    } catch (err) {
      this.log.error({ err, cardId: action.cardId }, 'answering a card action failed');
    }
  }
}
