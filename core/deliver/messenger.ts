import type { Card, OutboundContent } from '../cards/card.js';
import type { Locale } from '../i18n/i18n.js';
import type { Destination } from '../messages/outbound.js';
import { token } from '../util/di-token.js';

/** Receipt for an accepted outbound message. */
export interface SendReceipt {
  /** Durable id of the message in the outbox (or transport id when there is none). */
  id: string;
  /** The card instance id when the message was sent as an interactive card. */
  cardId?: string;
}

/**
 * Delivers messages to DingTalk (or the simulator, or a test sink). The core
 * ships an in-memory implementation; the DingTalk transport provides the durable outbox.
 */
export interface Messenger {
  send(to: Destination, content: OutboundContent, options?: SendOptions): Promise<SendReceipt>;
  /** Replaces the content of a card sent earlier (by card id). */
  updateCard(cardId: string, card: Card): Promise<void>;
  /**
   * Streams text into a card sent earlier (its `stream` variable, docs/dingtalk-protocol.md §5.6.3): each
   * call replaces the streamed text; `final` ends the stream. Resolves to false when that card
   * cannot stream (sent as markdown): show the text another way.
   */
  streamCard?(cardId: string, text: string, options?: StreamOptions): Promise<boolean>;
  /** Starts delivery (the bot calls it before transports start). */
  start?(): Promise<void>;
  /** Stops delivery; what is queued stays queued for the next start. */
  close?(): Promise<void>;
}

export interface StreamOptions {
  /** The last update: the card stops streaming (a final text always reaches the conversation). */
  final?: boolean;
  /** Show the stream as failed. */
  error?: boolean;
  /** Title of the markdown message sent instead when the app may not stream (final only). */
  fallbackTitle?: string;
}

export interface SendOptions {
  /** userIds to @mention. */
  atUserIds?: string[];
  locale?: Locale;
  /** Stable id for idempotent sends (a retry with the same key sends once). */
  idempotencyKey?: string;
  /**
   * The robot that speaks in a group, when it is not the app's own robot: a scene group
   * made from a group template has that template's robot (e.g. war rooms).
   */
  robotCode?: string;
}

/** The DI token of the Messenger. */
export const MessengerToken = token<Messenger>('Messenger');
