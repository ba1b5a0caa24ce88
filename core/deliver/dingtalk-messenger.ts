import { createHash, randomUUID } from 'node:crypto';
import { type Card, isCard, type OutboundContent } from '../cards/card.js';
import type { CardRenderer } from '../cards/card-renderer.js';
import { renderInteractive } from '../cards/render-interactive.js';
import type { Locale } from '../i18n/i18n.js';
import { nextSendKey } from '../messages/handling-context.js';
import type { Destination } from '../messages/outbound.js';
import type { CardInstances, CardTarget } from '../storage/card-instances.js';
import type { CardStreamPayload, CardUpdatePayload, SendPayload } from './dingtalk-delivery.js';
import type { Messenger, SendOptions, SendReceipt, StreamOptions } from './messenger.js';
import type { ApiBudget } from './openapi/api-budget.js';
import type { Outbox } from './outbox.js';

/**
 * The Messenger for DingTalk: queues what handlers send in the durable outbox, which hands
 * each row to `DingTalkDelivery`. Content is rendered once, when queued; the route is chosen
 * when delivered. Cards are recorded (`CardInstances`) before they are queued.
 */
export class DingTalkMessenger implements Messenger {
  constructor(
    private readonly outbox: Outbox,
    private readonly cards: CardInstances,
    private readonly renderer: CardRenderer,
    private readonly locale: Locale,
    private readonly budget?: ApiBudget,
  ) {}

  async start(): Promise<void> {
    await this.budget?.start();
    await this.outbox.start();
  }

  /** Stops delivering; queued messages stay in the store for the next start. */
  async close(): Promise<void> {
    await this.outbox.stop();
    await this.budget?.stop();
  }

  async send(to: Destination, content: OutboundContent, options: SendOptions = {}): Promise<SendReceipt> {
    const interactive = Boolean(this.renderer.templateId);
    const rendered = this.renderer.render(content, { interactive }, options.locale ?? this.locale);
    const { target, webhook, robotCode } = resolve(to);
    // A send made again with the same key is the same row, and its card the same card.
    const key = options.idempotencyKey || nextSendKey();
    const cardId = isCard(content)
      ? `dingops-${key ? createHash('sha256').update(key).digest('hex').slice(0, 32) : randomUUID()}`
      : undefined;
    if (cardId) await this.cards.record(cardId, rendered.kind === 'interactive', target);
    const atUserIds = [...(options.atUserIds ?? []), ...(isCard(content) ? (content.mentions ?? []) : [])];
    const payload: SendPayload = {
      target,
      webhook,
      rendered,
      atUserIds: atUserIds.length ? atUserIds : undefined,
      cardId,
      robotCode: options.robotCode ?? robotCode,
    };
    const id = await this.outbox.enqueue('send', keyOf(target), payload, { cardId, dedupeKey: key });
    return { id: String(id), cardId };
  }

  async updateCard(cardId: string, card: Card): Promise<void> {
    const sent = await this.cards.find(cardId);
    if (!sent) throw new Error(`unknown card ${cardId}`);
    if (sent.interactive) {
      const params = renderInteractive(card, this.renderer.context(this.locale));
      await this.outbox.enqueueLatest<CardUpdatePayload>('card-update', keyOf(sent.target), cardId, {
        cardId,
        params,
      });
      return;
    }
    // Markdown and action cards cannot be edited in DingTalk: the new state is posted.
    await this.send(
      sent.target.type === 'group'
        ? { kind: 'group', openConversationId: sent.target.openConversationId }
        : { kind: 'user', userId: sent.target.userId },
      card,
    );
  }

  async streamCard(cardId: string, text: string, options: StreamOptions = {}): Promise<boolean> {
    const sent = await this.cards.find(cardId);
    if (!sent?.interactive) return false;
    // Latest wins: a stream that outpaces DingTalk costs one call per delivery, not one per update.
    await this.outbox.enqueueLatest<CardStreamPayload>('card-stream', keyOf(sent.target), cardId, {
      cardId,
      text,
      final: options.final === true,
      error: options.error === true,
      fallbackTitle: options.fallbackTitle,
    });
    return true;
  }
}

function resolve(to: Destination): {
  target: CardTarget;
  webhook?: SendPayload['webhook'];
  robotCode?: string;
} {
  if (to.kind === 'group') return { target: { type: 'group', openConversationId: to.openConversationId } };
  if (to.kind === 'user') return { target: { type: 'user', userId: to.userId } };
  const m = to.to;
  const target: CardTarget =
    m.conversation.type === 'group'
      ? { type: 'group', openConversationId: m.conversation.id }
      : { type: 'user', userId: m.sender.userId };
  const webhook =
    m.reply.sessionWebhook && m.reply.sessionWebhookExpiresAt
      ? { url: m.reply.sessionWebhook, expiresAt: m.reply.sessionWebhookExpiresAt }
      : undefined;
  // A group answer comes from the robot that was spoken to (a scene group's template robot).
  return { target, webhook, robotCode: target.type === 'group' ? m.reply.robotCode : undefined };
}

/** The outbox lane: one conversation's messages are delivered in order. */
function keyOf(t: CardTarget): string {
  return t.type === 'group' ? `group:${t.openConversationId}` : `user:${t.userId}`;
}
