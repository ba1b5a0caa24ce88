import { STREAM_KEY } from '../deliver/dingtalk-delivery.js';
import { DingTalkApiError } from '../deliver/openapi/api-error.js';
import type { OpenApiClient } from '../deliver/openapi/openapi-client.js';

/** An id no real card, group or person has: probes must never touch anything real. */
const PROBE = 'dingops-permission-probe';

/**
 * One harmless call per permission: a request DingTalk refuses as invalid (an unknown card,
 * group or number) when the app holds the permission, and with
 * `Forbidden.AccessDenied.AccessTokenPermissionDenied` (or 60011) when it does not.
 */
const PROBES: Record<string, (api: OpenApiClient) => Promise<unknown>> = {
  qyapi_robot_sendmsg: (api) =>
    api.call('new', 'POST', '/v1.0/robot/oToMessages/batchSend', {
      robotCode: api.robotCode,
      userIds: [],
      msgKey: 'sampleText',
      msgParam: '{"content":""}',
    }),
  'Card.Instance.Write': (api) =>
    api.call('new', 'PUT', '/v1.0/card/instances', { outTrackId: PROBE, cardData: { cardParamMap: {} } }),
  'Card.Streaming.Write': (api) =>
    api.call('new', 'PUT', '/v1.0/card/streaming', {
      outTrackId: PROBE,
      guid: PROBE,
      key: STREAM_KEY,
      content: '',
      isFull: true,
      isFinalize: false,
    }),
  qyapi_chat_manage: (api) =>
    api.call('legacy', 'POST', '/topapi/im/chat/scenegroup/member/add', {
      open_conversation_id: `cid${PROBE}`,
      user_ids: '',
    }),
  qyapi_chat_read: (api) =>
    api.call('legacy', 'POST', '/topapi/im/chat/scenegroup/get', { open_conversation_id: `cid${PROBE}` }),
  qyapi_chat_base_read: (api) =>
    api.call('new', 'POST', '/v1.0/im/groups/baseInfos/query', { openConversationId: `cid${PROBE}` }),
  qyapi_get_member_by_mobile: (api) =>
    api.call('legacy', 'POST', '/topapi/v2/user/getbymobile', { mobile: '10000000000' }),
};

export type ProbeOutcome = 'granted' | 'missing' | 'unknown';

export function canProbe(scope: string): boolean {
  return scope in PROBES;
}

/** Whether the app holds a permission; other failures (network, throttling) are rethrown. */
export async function probePermission(api: OpenApiClient, scope: string): Promise<ProbeOutcome> {
  const probe = PROBES[scope];
  if (!probe) return 'unknown';
  try {
    await probe(api);
    return 'granted';
  } catch (err) {
    if (!(err instanceof DingTalkApiError)) throw err;
    if (err.kind === 'permission') return 'missing';
    if (err.kind === 'invalid') return 'granted';
    throw err;
  }
}
