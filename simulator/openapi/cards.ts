import { errors } from '../errors.js';
import { field, obj, str } from '../json-fields.js';
import type { SimApp } from '../org/org.js';
import { randomText } from '../random-text.js';
import type { SimCard, SimState } from '../state.js';
import { renderCard } from './render.js';
import { checkRobot, robotInGroup } from './robot.js';

const VALUE_LIMIT = 1024;
const STREAM_LIMIT = 10_000;

function stringParams(map: unknown, where: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!map) return out;
  if (typeof map !== 'object')
    throw errors.invalid('invalidParameter.cardData.invalid', `${where} must be an object`);
  for (const [k, v] of Object.entries(map as Record<string, unknown>)) {
    // DingTalk requires string values; objects must be JSON-encoded by the caller.
    if (typeof v !== 'string')
      throw errors.invalid('invalidParameter.cardData.invalid', `${where}.${k} must be a string`);
    if (Buffer.byteLength(k) > 100)
      throw errors.invalid(
        'invalidParameter.cardData.invalid',
        `${where} key ${k.slice(0, 20)}… exceeds 100 bytes`,
      );
    if (Buffer.byteLength(v) > VALUE_LIMIT)
      throw errors.invalid('invalidParameter.cardData.invalid', `${where}.${k} exceeds ${VALUE_LIMIT} bytes`);
    out[k] = v;
  }
  return out;
}

/** Re-renders the card's message in its conversation after any change. */
export function refreshCardMessage(state: SimState, card: SimCard): void {
  const msg = state.messageBySeq(card.messageSeq);
  if (!msg) return;
  const r = renderCard(card.templateId, card.params, card.streaming);
  msg.title = r.title;
  msg.content = r.content;
  msg.buttons = r.buttons;
  state.emit('update', msg);
}

/**
 * POST /v1.0/card/instances/createAndDeliver. Delivers to `dtv1.card//IM_GROUP.<cid>` or
 * `dtv1.card//IM_ROBOT.<userId>`. A repeated outTrackId returns the existing delivery
 * without delivering again (what an idempotent retry needs; DingTalk's exact answer to a
 * duplicate is not documented).
 */
export function createAndDeliver(state: SimState, app: SimApp, body: Record<string, unknown>) {
  const outTrackId = body.outTrackId;
  if (!outTrackId || typeof outTrackId !== 'string')
    throw errors.invalid('invalidParameter.outTrackId.empty', 'outTrackId is empty');
  const templateId = str(body.cardTemplateId) ?? '';
  if (!state.org.cardTemplates.includes(templateId))
    throw errors.invalid(
      'invalidParameter.cardTemplateId.invalid',
      `card template ${String(body.cardTemplateId)} does not exist`,
    );
  const [, spaceType, spaceId] =
    /^dtv1\.card\/\/(IM_GROUP|IM_ROBOT)\.(.+)$/.exec(String(body.openSpaceId ?? '')) ?? [];
  if (!spaceType || !spaceId)
    throw errors.invalid('invalidParameter.openSpaceId.invalid', 'openSpaceId is invalid');
  const existing = state.cards.get(outTrackId);
  if (existing) return deliverResult(outTrackId, spaceType, spaceId);
  let conversation: string;
  if (spaceType === 'IM_GROUP') {
    const group = state.org.groups.find((g) => g.openConversationId === spaceId);
    if (!group) throw errors.invalid('invalidParameter.openSpaceId.invalid', 'group does not exist');
    const robotCode = str(field(body, 'imGroupOpenDeliverModel', 'robotCode')) ?? app.robotCode;
    checkRobot(state, app, robotCode);
    // DingTalk answers 200 and reports the recipient it could not reach inside the body
    // (docs/dingtalk-protocol.md §5.6.1): the card is made, but nobody sees it.
    if (!robotInGroup(app, group, robotCode))
      return deliverResult(outTrackId, spaceType, spaceId, 'spaceId is illegal');
    conversation = group.openConversationId;
  } else {
    if (!state.org.users.some((u) => u.userId === spaceId))
      throw errors.invalid('invalidParameter.openSpaceId.invalid', 'user does not exist');
    conversation = state.dmId(spaceId);
  }
  const params = stringParams(field(body, 'cardData', 'cardParamMap'), 'cardData.cardParamMap');
  const privateData: SimCard['privateData'] = {};
  for (const [u, d] of Object.entries(obj(body.privateData)))
    privateData[u] = stringParams(field(d, 'cardParamMap'), `privateData.${u}`);
  const rendered = renderCard(templateId, params, {});
  const atUserIds = Object.keys(obj(field(body, 'imGroupOpenDeliverModel', 'atUserIds')));
  const card: SimCard = {
    outTrackId,
    templateId,
    conversation,
    params,
    privateData,
    streaming: {},
    callbackType: String(body.callbackType ?? 'STREAM'),
    callbackRouteKey: body.callbackRouteKey === undefined ? undefined : String(body.callbackRouteKey),
    messageSeq: 0,
    app: app.clientId,
    updates: 0,
  };
  // The card exists before its message: whoever watches messages can read it.
  state.cards.set(outTrackId, card);
  card.messageSeq = state.addMessage({
    conversation,
    sender: 'bot',
    ...rendered,
    cardId: outTrackId,
    atUserIds,
    via: 'card',
  }).seq;
  return deliverResult(outTrackId, spaceType, spaceId);
}

function deliverResult(outTrackId: string, spaceType: string, spaceId: string, failure?: string) {
  return {
    success: true,
    result: {
      outTrackId,
      deliverResults: [
        failure
          ? { spaceType, spaceId, success: false, errorMsg: failure, carrierId: '' }
          : { spaceType, spaceId, success: true, errorMsg: '', carrierId: `carrier-${outTrackId}` },
      ],
    },
  };
}

/** PUT /v1.0/card/instances */
export function updateCard(state: SimState, app: SimApp, body: Record<string, unknown>) {
  const card = state.cards.get(String(body.outTrackId ?? ''));
  if (!card || card.app !== app.clientId)
    throw errors.invalid('invalidParameter.outTrackId.invalid', 'card instance does not exist');
  const params = stringParams(field(body, 'cardData', 'cardParamMap'), 'cardData.cardParamMap');
  card.params = field(body, 'cardUpdateOptions', 'updateCardDataByKey')
    ? { ...card.params, ...params }
    : params;
  card.updates++;
  refreshCardMessage(state, card);
  return { success: true, result: true };
}

/** PUT /v1.0/card/streaming */
export function streamCard(state: SimState, app: SimApp, body: Record<string, unknown>) {
  const card = state.cards.get(String(body.outTrackId ?? ''));
  if (!card || card.app !== app.clientId)
    throw errors.invalid('invalidParameter.outTrackId.invalid', 'card instance does not exist');
  const key = str(body.key);
  if (!body.guid || !key) throw errors.invalid('invalidParameter.param.invalid', 'guid and key are required');
  const content = String(body.content ?? '');
  if (Buffer.byteLength(content) > STREAM_LIMIT)
    throw errors.invalid('invalidParameter.content.tooLong', `content exceeds ${STREAM_LIMIT} bytes`);
  const s = card.streaming[key] ?? {
    content: '',
    finalized: false,
    error: false,
    updates: 0,
    sent: [],
  };
  if (s.finalized)
    throw errors.invalid(
      'invalidParameter.streaming.finalized',
      'streaming of this key is already finalized',
    );
  s.content = body.isFull ? content : s.content + content;
  s.finalized = Boolean(body.isFinalize);
  s.error = Boolean(body.isError);
  s.updates++;
  s.sent.push(content);
  if (s.sent.length > 200) s.sent.shift();
  card.streaming[key] = s;
  refreshCardMessage(state, card);
  return { success: true, result: true };
}

/** `POST /v1.0/card/callbacks/register` (docs/dingtalk-protocol.md §5.6.5): where HTTP-callback cards send clicks. */
export function registerCardCallback(state: SimState, app: SimApp, body: Record<string, unknown>) {
  const key = typeof body.callbackRouteKey === 'string' ? body.callbackRouteKey : '';
  const url = typeof body.callbackUrl === 'string' ? body.callbackUrl : '';
  if (!key) throw errors.invalid('invalidParameter.callbackRouteKey.empty', 'callbackRouteKey is empty');
  if (!/^https?:\/\//.test(url))
    throw errors.invalid('invalidParameter.callbackUrl.invalid', 'callbackUrl is invalid');
  const existing = state.cardCallbacks.get(key);
  if (existing && existing.app !== app.clientId)
    throw errors.invalid(
      'invalidParameter.callbackRouteKey.exists',
      'callbackRouteKey is used by another app',
    );
  if (existing && body.forceUpdate !== true && existing.url !== url)
    throw errors.invalid(
      'invalidParameter.callbackRouteKey.exists',
      'callbackRouteKey exists; set forceUpdate',
    );
  const apiSecret =
    typeof body.apiSecret === 'string' && body.apiSecret ? body.apiSecret : randomText(16, 'hex');
  state.cardCallbacks.set(key, { app: app.clientId, url, apiSecret });
  return { success: true, result: { callbackUrl: url, apiSecret } };
}
