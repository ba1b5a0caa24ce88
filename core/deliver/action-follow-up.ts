import type { Logger } from 'pino';
import type { CardAction } from '../messages/inbound.js';
import type { ActionResult } from '../messages/outbound.js';
import type { Messenger } from './messenger.js';

/**
 * Sends what a card action's answer could not carry (`ActionFollowUp` in
 * `receive/card-callbacks.ts`): the card through the card API when the handler finished after
 * DingTalk's 2 s, and the handler's message to the conversation, @mentioning who clicked.
 */
export function actionFollowUp(messenger: Messenger, log: Logger) {
  return async (action: CardAction, result: ActionResult, late: boolean): Promise<void> => {
    try {
      if (late && result.card) await messenger.updateCard(action.cardId, result.card);
      if (result.message) {
        const to =
          action.conversation?.type === 'group'
            ? { kind: 'group' as const, openConversationId: action.conversation.id }
            : { kind: 'user' as const, userId: action.user.userId };
        await messenger.send(to, result.message, { atUserIds: [action.user.userId] });
      }
    } catch (err) {
      log.error({ err, cardId: action.cardId }, 'answering a card action failed');
    }
  };
}
