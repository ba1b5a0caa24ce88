export type ConversationType = 'direct' | 'group';

export interface Conversation {
  /** openConversationId for groups; the DM conversation id for direct chats. */
  id: string;
  type: ConversationType;
  title?: string;
}

export interface Sender {
  /** The sender's userId (staffId) in the bot's organisation; empty for outsiders. */
  userId: string;
  /** The encrypted per-app id DingTalk always sends (`senderId`). */
  dingtalkId?: string;
  nick: string;
  /** DingTalk's own org-admin flag; dingops roles come from config, not from this. */
  isAdmin: boolean;
  corpId?: string;
}

/** A user mentioned in the message, other than the bot (from DingTalk's structured `atUsers`). */
export interface Mention {
  userId?: string;
  dingtalkId: string;
}

/** How to answer this message; the delivery layer chooses webhook or OpenAPI. */
export interface ReplyHandle {
  sessionWebhook?: string;
  sessionWebhookExpiresAt?: number;
  robotCode?: string;
}

/** A message from DingTalk after transport-specific decoding; the command pipeline sees only this. */
export interface InboundMessage {
  id: string;
  conversation: Conversation;
  sender: Sender;
  /** Text with the bot mention removed and trimmed. Empty for non-text messages. */
  text: string;
  msgType: string;
  mentions: Mention[];
  receivedAt: number;
  reply: ReplyHandle;
  /** The transport that delivered it (`stream`, `http`, `local`). */
  via: string;
}

/** A click on a card button, decoded from DingTalk's card callback. */
export interface CardAction {
  id: string;
  /** The card instance (outTrackId). */
  cardId: string;
  /** The action id the button carries (`<plugin>.<action>`). */
  action: string;
  params: Record<string, string>;
  user: { userId: string; nick?: string };
  conversation?: Conversation;
  receivedAt: number;
  via: string;
}

/** A DingTalk event (Stream `EVENT` frame or decrypted HTTP push), transport-independent. */
export interface DingTalkEvent {
  /** `chat_update_title`, `im_cool_app_install`, ... */
  type: string;
  id: string;
  corpId?: string;
  bornAt?: number;
  /** Business fields of the event. */
  data: Record<string, unknown>;
  via: string;
}
