import { randomUUID } from 'node:crypto';
import type { Card, OutboundContent } from '../cards/card.js';
import type { CardRenderer, RenderedMessage } from '../cards/card-renderer.js';
import type { Destination } from '../messages/outbound.js';
import type { Messenger, SendOptions, SendReceipt, StreamOptions } from './messenger.js';

export interface LocalDelivery {
  id: string;
  to: Destination;
  /** Where it landed: the conversation id (group or DM) or `user:<id>`. */
  conversationId: string;
  content: OutboundContent;
  rendered: RenderedMessage;
  options?: SendOptions;
  cardId?: string;
  at: number;
  /** The card's streamed text, as last streamed. */
  streamed?: { text: string; final: boolean; error: boolean };
}

/**
 * Delivers in memory: for tests, benchmarks and the console mode. Renders exactly as
 * the DingTalk delivery would (so tests see real markdown and card params) and keeps
 * what was sent; cards can be updated in place.
 */
export class LocalMessenger implements Messenger {
  readonly sent: LocalDelivery[] = [];
  private readonly listeners: Array<(d: LocalDelivery) => void> = [];
  readonly cards = new Map<string, LocalDelivery>();

  constructor(
    private readonly renderer: CardRenderer,
    private readonly options: { keep?: number; interactive?: boolean } = {},
  ) {}

  onDelivery(fn: (d: LocalDelivery) => void): void {
    this.listeners.push(fn);
  }

  async send(to: Destination, content: OutboundContent, options?: SendOptions): Promise<SendReceipt> {
    const rendered = this.renderer.render(
      content,
      { interactive: this.options.interactive ?? true },
      options?.locale,
    );
    const id = randomUUID();
    const cardId = rendered.kind === 'interactive' ? `card-${id}` : undefined;
    const delivery: LocalDelivery = {
      id,
      to,
      conversationId: conversationOf(to),
      content,
      rendered,
      options,
      cardId,
      at: Date.now(),
    };
    this.sent.push(delivery);
    const keep = this.options.keep ?? 10_000;
    if (this.sent.length > keep) this.sent.splice(0, this.sent.length - keep);
    if (cardId) this.cards.set(cardId, delivery);
    for (const l of this.listeners) l(delivery);
    return { id, cardId };
  }

  async streamCard(cardId: string, text: string, options: StreamOptions = {}): Promise<boolean> {
    const d = this.cards.get(cardId);
    if (!d) return false;
    d.streamed = { text, final: options.final === true, error: options.error === true };
    for (const l of this.listeners) l(d);
    return true;
  }

  async updateCard(cardId: string, card: Card): Promise<void> {
    const d = this.cards.get(cardId);
    if (!d) throw new Error(`unknown card ${cardId}`);
    d.content = card;
    d.rendered = this.renderer.render(card, { interactive: true }, d.options?.locale);
    for (const l of this.listeners) l(d);
  }
}

export function conversationOf(to: Destination): string {
  if (to.kind === 'group') return to.openConversationId;
  if (to.kind === 'user') return `user:${to.userId}`;
  return to.to.conversation.id;
}
