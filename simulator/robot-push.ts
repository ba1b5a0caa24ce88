import { createHash } from 'node:crypto';
import type { SimApp, SimUser } from './org/org.js';
import type { SimState } from './state.js';

export const TOPIC_ROBOT = '/v1.0/im/bot/messages/get';
export const TOPIC_CARD = '/v1.0/card/instances/callback';

/** Ids already derived: every push names the bot and the sender (bounded by apps × users). */
const dingtalkIds = new Map<string, string>();

/** DingTalk's per-app encrypted user id (`$:LWCP_v1:$...`): stable per app and user. */
export function dingtalkId(app: SimApp, userId: string): string {
  const key = `${app.clientId}:${userId}`;
  let id = dingtalkIds.get(key);
  if (id === undefined) {
    id = `$:LWCP_v1:$${createHash('sha256').update(key).digest('base64').slice(0, 24)}`;
    dingtalkIds.set(key, id);
  }
  return id;
}

export interface UserMessageInput {
  app: SimApp;
  sender: SimUser;
  /** Group openConversationId, or undefined for a direct message. */
  group?: string;
  text: string;
  msgId: string;
  /** Users @mentioned besides the bot (resolved from `@name` in the text). */
  mentions: SimUser[];
  webhookBase: string;
  /** `richText`: the text in segments, the bot's mention kept in the first (docs/dingtalk-protocol.md §2.1). */
  format?: 'text' | 'richText';
  /** Pictures pasted in (richText). */
  pictures?: number;
}

/**
 * Builds the robot message payload (the `data` of a Stream CALLBACK, or the body of an HTTP
 * callback) as docs/dingtalk-protocol.md §2 shows it: in groups the `@Bot` is removed from the
 * text leaving its leading space, `atUsers` lists the bot and the other mentions.
 */
export function robotMessagePayload(state: SimState, input: UserMessageInput): Record<string, unknown> {
  const { app, sender } = input;
  const now = Date.now();
  const conversationId = input.group ?? state.dmId(sender.userId);
  const session = state.newSessionWebhook(app.clientId, conversationId);
  // In a scene group the message is to the template's robot; it reaches the owning app.
  const robotCode = (input.group && state.group(input.group)?.robotCode) || app.robotCode;
  const botId = dingtalkId(app, `bot:${robotCode}`);
  const base: Record<string, unknown> = {
    conversationId,
    chatbotCorpId: state.org.corpId,
    chatbotUserId: botId,
    msgId: input.msgId,
    senderNick: sender.name,
    isAdmin: sender.admin === true,
    senderStaffId: sender.external ? '' : sender.userId,
    sessionWebhookExpiredTime: session.expiresAt,
    createAt: now,
    senderCorpId: sender.external ? 'dingothercorp' : state.org.corpId,
    conversationType: input.group ? '2' : '1',
    senderId: dingtalkId(app, sender.userId),
    sessionWebhook: `${input.webhookBase}/robot/sendBySession?session=${session.session}`,
    robotCode,
    ...(input.format === 'richText'
      ? { msgtype: 'richText', content: { richText: richTextSegments(app, input) } }
      : { msgtype: 'text', text: { content: input.group ? ` ${input.text}` : input.text } }),
  };
  if (input.group) {
    base.conversationTitle = state.group(input.group)?.title ?? '';
    base.isInAtList = true;
    base.atUsers = [
      { dingtalkId: botId },
      ...input.mentions.map((u) => ({
        dingtalkId: dingtalkId(app, u.userId),
        staffId: u.external ? '' : u.userId,
      })),
    ];
  }
  return base;
}

/**
 * A richText body's segments: plain `{text}` segments (the group's @mention of the bot kept,
 * unlike in `text` messages) and a `picture` segment per picture with its download codes, as
 * the Python SDK's `RichTextContent` and open-source connectors read them.
 */
function richTextSegments(app: SimApp, input: UserMessageInput): Array<Record<string, unknown>> {
  const segments: Array<Record<string, unknown>> = [];
  if (input.group) segments.push({ text: `@${app.name} ` });
  if (input.text.trim()) segments.push({ text: input.text });
  for (let i = 0; i < (input.pictures ?? 0); i++) {
    const code = `pic${createHash('sha256').update(`${input.msgId}:${i}`).digest('hex').slice(0, 24)}`;
    segments.push({ type: 'picture', downloadCode: code, pictureDownloadCode: code });
  }
  return segments;
}

/** The card callback payload (docs/dingtalk-protocol.md §5.6.4): `content` is a JSON string (py-sdk `CardCallbackMessage`). */
export function cardCallbackPayload(
  state: SimState,
  outTrackId: string,
  spaceId: string,
  userId: string,
  params: Record<string, string>,
): Record<string, unknown> {
  const content = JSON.stringify({ cardPrivateData: { actionIds: ['action_button'], params } });
  return {
    extension: '{}',
    corpId: state.org.corpId,
    spaceType: 'im',
    userIdType: 1,
    type: 'actionCallback',
    userId,
    content,
    spaceId,
    outTrackId,
  };
}
