import type { CardAction, InboundMessage } from '../messages/inbound.js';

/** A robot message payload (PROTOCOL.md section 2), Stream `data` or HTTP body, normalized. */
export function decodeRobotMessage(d: Record<string, any>, via: string): InboundMessage {
  const group = String(d.conversationType) === '2';
  const botId = d.chatbotUserId;
  const atUsers = (Array.isArray(d.atUsers) ? d.atUsers : []) as Array<{
    dingtalkId: string;
    staffId?: string;
  }>;
  const msgType = String(d.msgtype ?? 'text');
  // Voice messages come with DingTalk's recognition: treat it as typed text.
  const text =
    msgType === 'text'
      ? String(d.text?.content ?? '')
      : msgType === 'audio'
        ? String(d.content?.recognition ?? '')
        : '';
  return {
    id: String(d.msgId),
    conversation: {
      id: String(d.conversationId),
      type: group ? 'group' : 'direct',
      title: d.conversationTitle,
    },
    sender: {
      userId: String(d.senderStaffId ?? ''),
      dingtalkId: d.senderId,
      nick: String(d.senderNick ?? ''),
      isAdmin: d.isAdmin === true,
      corpId: d.senderCorpId,
    },
    // The @Bot is already removed by DingTalk (a leading space remains); mentions are read
    // from atUsers, never from the text.
    text: text.trim(),
    msgType: msgType === 'audio' && text ? 'text' : msgType,
    mentions: atUsers
      .filter((u) => u.dingtalkId !== botId)
      .map((u) => ({ dingtalkId: u.dingtalkId, userId: u.staffId || undefined })),
    receivedAt: Number(d.createAt ?? d.createA ?? Date.now()),
    reply: {
      sessionWebhook: d.sessionWebhook,
      sessionWebhookExpiresAt: Number(d.sessionWebhookExpiredTime) || undefined,
      robotCode: d.robotCode,
    },
    via,
  };
}

/** A card callback payload (PROTOCOL.md 5.6.4): `content` is a JSON string with the button's params. */
export function decodeCardCallback(d: Record<string, any>, id: string, via: string): CardAction {
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
