import type { CardAction, InboundMessage } from '../messages/inbound.js';

/** A JSON object as received: nothing about its fields is known until checked. */
export type JsonObject = Record<string, unknown>;

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);
/** The value when it is a string, else undefined (a wrong type is dropped, not passed on). */
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/**
 * What is wrong with a robot message payload (docs/dingtalk-protocol.md §2), or undefined: the
 * fields the bot reads must have their documented types, so a message that was accepted
 * always decodes (a payload that cannot is refused, or dead-lettered, never replayed forever).
 */
export function robotMessageProblem(d: JsonObject): string | undefined {
  if (typeof d.msgId !== 'string' || !d.msgId) return 'msgId must be a non-empty string';
  if (typeof d.conversationId !== 'string' || !d.conversationId)
    return 'conversationId must be a non-empty string';
  const optionalStrings = [
    'senderStaffId',
    'senderId',
    'senderNick',
    'chatbotUserId',
    'conversationTitle',
    'msgtype',
  ];
  for (const f of optionalStrings)
    if (d[f] !== undefined && d[f] !== null && typeof d[f] !== 'string') return `${f} must be a string`;
  if (d.text !== undefined && !isObject(d.text)) return 'text must be an object';
  if (isObject(d.text) && d.text.content !== undefined && typeof d.text.content !== 'string')
    return 'text.content must be a string';
  if (d.content !== undefined && d.content !== null && !isObject(d.content))
    return 'content must be an object';
  const rich = isObject(d.content) ? d.content.richText : undefined;
  if (rich !== undefined && !Array.isArray(rich)) return 'content.richText must be an array';
  if (d.atUsers !== undefined && d.atUsers !== null) {
    if (!Array.isArray(d.atUsers)) return 'atUsers must be an array';
    for (const [i, u] of d.atUsers.entries())
      if (!isObject(u) || typeof u.dingtalkId !== 'string')
        return `atUsers[${i}] must be an object with a dingtalkId`;
  }
  return undefined;
}

/** A robot message payload (docs/dingtalk-protocol.md §2), Stream `data` or HTTP body, normalized. */
export function decodeRobotMessage(d: JsonObject, via: string): InboundMessage {
  const problem = robotMessageProblem(d);
  if (problem) throw new UndecodableMessage(problem);
  const group = String(d.conversationType) === '2';
  const botId = str(d.chatbotUserId);
  // Checked by robotMessageProblem: objects with a string dingtalkId.
  const atUsers = (Array.isArray(d.atUsers) ? d.atUsers : []) as Array<{
    dingtalkId: string;
    staffId?: unknown;
  }>;
  const { text, msgType } = readableText(d, group);
  return {
    id: String(d.msgId),
    conversation: {
      id: String(d.conversationId),
      type: group ? 'group' : 'direct',
      title: str(d.conversationTitle),
    },
    sender: {
      userId: str(d.senderStaffId) ?? '',
      dingtalkId: str(d.senderId),
      nick: str(d.senderNick) ?? '',
      isAdmin: d.isAdmin === true,
      corpId: str(d.senderCorpId),
    },
    // The @Bot is already removed by DingTalk from `text` (a leading space remains); mentions
    // are read from atUsers, never from the text.
    text,
    msgType,
    mentions: atUsers
      .filter((u) => u.dingtalkId !== botId)
      .map((u) => ({ dingtalkId: u.dingtalkId, userId: str(u.staffId) || undefined })),
    receivedAt: Number(d.createAt ?? d.createA ?? Date.now()),
    reply: {
      sessionWebhook: str(d.sessionWebhook),
      sessionWebhookExpiresAt: Number(d.sessionWebhookExpiredTime) || undefined,
      robotCode: str(d.robotCode),
    },
    via,
  };
}

/**
 * The text a person typed, and what kind of message it counts as for the command pipeline
 * (docs/dingtalk-protocol.md §2.1): `text`; `richText` (text with a picture pasted in, or the
 * @mention and the command as separate segments), read as its text segments joined, the
 * leading @mention of the bot removed; `audio`, read through DingTalk's recognition. A message
 * with text is `text`; a richText of pictures only is `picture`; anything else keeps its type.
 */
function readableText(d: JsonObject, group: boolean): { text: string; msgType: string } {
  const msgType = str(d.msgtype) ?? 'text';
  const content = isObject(d.content) ? d.content : undefined;
  if (msgType === 'text')
    return { text: (str(isObject(d.text) ? d.text.content : undefined) ?? '').trim(), msgType };
  if (msgType === 'audio') {
    const text = (str(content?.recognition) ?? '').trim();
    return { text, msgType: text ? 'text' : msgType };
  }
  if (msgType !== 'richText') return { text: '', msgType };
  const segments = Array.isArray(content?.richText) ? content.richText : [];
  let text = '';
  let pictures = 0;
  for (const seg of segments) {
    if (!isObject(seg)) continue;
    const type = str(seg.type) ?? str(seg.msgType);
    if (type === 'picture' || str(seg.downloadCode) || str(seg.pictureDownloadCode)) pictures++;
    // `at` segments name who was mentioned; atUsers carries the same, so they add no text.
    else if (type === undefined || type === 'text' || type === 'emoji')
      text += str(seg.text) ?? str(seg.content) ?? '';
  }
  text = text.trim();
  // In a group the bot is @mentioned; in richText its mention can stay in the first segment.
  if (group) text = text.replace(/^@\S+\s*/u, '');
  if (text) return { text, msgType: 'text' };
  return { text: '', msgType: pictures ? 'picture' : msgType };
}

/** A card callback payload (docs/dingtalk-protocol.md §5.6.4): `content` is a JSON string with the button's params. */
export function decodeCardCallback(d: JsonObject, id: string, via: string): CardAction {
  let params: Record<string, string> = {};
  try {
    const content = JSON.parse(String(d.content ?? d.value ?? '{}')) as {
      cardPrivateData?: { params?: Record<string, unknown> };
    };
    for (const [k, v] of Object.entries(content.cardPrivateData?.params ?? {}))
      params[k] = typeof v === 'string' ? v : JSON.stringify(v);
  } catch {
    params = {};
  }
  return {
    id,
    cardId: String(d.outTrackId ?? ''),
    action: params.action ?? '',
    params,
    user: { userId: String(d.userId ?? '') },
    receivedAt: Date.now(),
    via,
  };
}

/** A payload that is not a robot message the bot can read: dead-lettered with this reason. */
export class UndecodableMessage extends Error {
  constructor(readonly reason: string) {
    super(`not a robot message: ${reason}`);
    this.name = 'UndecodableMessage';
  }
}
