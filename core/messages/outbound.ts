import type { Card, OutboundContent } from '../cards/card.js';
import type { InboundMessage } from './inbound.js';

/** Where a message goes. */
export type Destination =
  | { kind: 'group'; openConversationId: string }
  | { kind: 'user'; userId: string }
  | { kind: 'reply'; to: InboundMessage };

/** The answer to a card action: the card's new content, and a short message for who clicked. */
export interface ActionResult {
  card?: Card;
  /** A short message for the user who clicked (posted in the conversation). */
  message?: OutboundContent;
}
