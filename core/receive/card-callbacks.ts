import type { Logger } from 'pino';
import type { CardRenderer } from '../cards/card-renderer.js';
import { renderInteractive } from '../cards/render-interactive.js';
import type { Locale } from '../i18n/i18n.js';
import type { CardAction, Conversation } from '../messages/inbound.js';
import type { ActionResult } from '../messages/outbound.js';
import type { CardInstances } from '../storage/card-instances.js';
import { decodeCardCallback, type JsonObject } from './decode.js';
import type { Inbox } from './inbox.js';
import type { InboundSink } from './transport.js';

/**
 * What becomes of an action's result that the callback's answer could not carry: a card that
 * came too late for it, a message to who clicked. Delivery does it (`deliver/action-follow-up.ts`);
 * receiving code does not send.
 */
export type ActionFollowUp = (action: CardAction, result: ActionResult, late: boolean) => Promise<void>;

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
  constructor(
    private readonly options: CardCallbackOptions,
    private readonly inbox: Inbox,
    private readonly sink: InboundSink,
    private readonly followUp: ActionFollowUp,
    private readonly renderer: CardRenderer,
    private readonly cards: CardInstances,
    private readonly log: Logger,
  ) {}

  /** Handles one callback payload (docs/dingtalk-protocol.md §5.6.4); resolves to the response for DingTalk. */
  async handle(data: JsonObject, callbackId: string, via: string): Promise<Record<string, unknown>> {
    const action = decodeCardCallback(data, callbackId, via);
    action.conversation = await this.conversationOf(action.cardId).catch(() => undefined);
    const inboxId = `card:${callbackId}`;
    const fresh = await this.inbox.accept(inboxId, 'card', data).catch(() => true);
    if (!fresh) return {};
    const work = this.sink.action(action).catch((err): ActionResult => {
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
      void work.then((r) => this.followUp(action, r, true));
      return {};
    }
    // Answer first; what follows (a message to the clicker) does not hold up the card.
    setImmediate(() => {
      void this.followUp(action, result, false).then(() => this.inbox.done(inboxId).catch(() => undefined));
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

  private async conversationOf(cardId: string): Promise<Conversation | undefined> {
    const card = await this.cards.find(cardId);
    if (!card) return undefined;
    return card.target.type === 'group'
      ? { id: card.target.openConversationId, type: 'group' }
      : { id: `dm:${card.target.userId}`, type: 'direct' };
  }
}
