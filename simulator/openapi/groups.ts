import { errors, LegacyError } from '../errors.js';
import { str } from '../json-fields.js';
import type { SimApp } from '../org/org.js';
import { randomText } from '../random-text.js';
import type { SimState } from '../state.js';

const legacyOk = (result: unknown) => ({
  errcode: 0,
  errmsg: 'ok',
  success: true,
  result,
  request_id: randomText(8, 'hex'),
});
const ids = (v: unknown): string[] =>
  Array.isArray(v) ? v.map(String) : typeof v === 'string' && v ? v.split(',') : [];

/**
 * POST /topapi/im/chat/scenegroup/create (legacy). The template must exist and belong to
 * the app; the group gets the template's robot; the title is at most 30 characters; `uuid`
 * makes creation idempotent (a repeat answers the group made the first time).
 */
export function createSceneGroup(
  state: SimState,
  app: SimApp,
  body: Record<string, unknown>,
  uuids: Map<string, string>,
) {
  const template = state.org.sceneGroupTemplates.find((t) => t.templateId === body.template_id);
  // 665036 is DingTalk's documented answer for an unknown or disabled template (error table of
  // scenegroup/template/apply, the same family of APIs).
  if (!template || template.disabled) throw new LegacyError(665036, '群模板不存在或停用');
  // A template of another app: DingTalk's code for it is UNCONFIRMED (no public source); the
  // simulator answers a code of its own so the bot's "bind the template" advice can be tested.
  if (template.clientId !== app.clientId)
    throw new LegacyError(4000002, '群模板未关联当前应用，请在开发者后台的场景群中为群模板关联该应用');
  const title = String(body.title ?? '');
  if (!title || [...title].length > 30) throw new LegacyError(40035, '群名称不能为空且不超过30个字符');
  const owner = state.org.users.find((u) => u.userId === body.owner_user_id);
  if (!owner) throw new LegacyError(60121, `找不到该用户：${String(body.owner_user_id)}`);
  const uuid = str(body.uuid);
  const earlier = uuid === undefined ? undefined : uuids.get(uuid);
  if (earlier) {
    const cid = earlier;
    return legacyOk({ open_conversation_id: cid, chat_id: `chat${cid.slice(4)}` });
  }
  const members = [...new Set([owner.userId, ...ids(body.user_ids)])];
  const unknown = members.filter((m) => !state.org.users.some((u) => u.userId === m));
  if (unknown.length) throw new LegacyError(60121, `找不到该用户：${unknown.join(',')}`);
  const cid = `cid${randomText(12, 'base64url')}==`;
  state.org.groups.push({
    openConversationId: cid,
    title,
    members,
    coolAppInstalled: true,
    templateId: template.templateId,
    ownerUserId: owner.userId,
    robotCode: template.robotCode,
  });
  if (uuid) uuids.set(uuid, cid);
  state.changed('conversations');
  return legacyOk({ open_conversation_id: cid, chat_id: `chat${cid.slice(3, 15)}` });
}

/** POST /topapi/im/chat/scenegroup/member/add (legacy) */
export function addSceneGroupMembers(state: SimState, body: Record<string, unknown>) {
  const group = state.org.groups.find((g) => g.openConversationId === body.open_conversation_id);
  if (!group?.templateId) throw new LegacyError(4000003, '群不存在或不是场景群');
  const add = ids(body.user_ids);
  if (add.length > 100) throw new LegacyError(40035, 'user_ids 最多 100 个');
  const unknown = add.filter((m) => !state.org.users.some((u) => u.userId === m));
  if (unknown.length) throw new LegacyError(60121, `找不到该用户：${unknown.join(',')}`);
  for (const u of add) if (!group.members.includes(u)) group.members.push(u);
  state.changed('conversations');
  return { errcode: 0, errmsg: 'ok', success: true, request_id: randomText(8, 'hex') };
}

/** POST /topapi/im/chat/scenegroup/get (legacy) */
export function getSceneGroup(state: SimState, body: Record<string, unknown>) {
  const group = state.org.groups.find((g) => g.openConversationId === body.open_conversation_id);
  if (!group?.templateId) throw new LegacyError(4000003, '群不存在或不是场景群');
  return legacyOk({
    open_conversation_id: group.openConversationId,
    template_id: group.templateId,
    title: group.title,
    owner_staff_id: group.ownerUserId,
    group_url: `dingtalk://dingtalkclient/page/link?url=${encodeURIComponent(group.openConversationId)}`,
    sub_admin_staff_ids: [],
    member_staff_ids: group.members,
  });
}

/** POST /v1.0/im/groups/baseInfos/query */
export function groupBaseInfo(state: SimState, body: Record<string, unknown>) {
  const group = state.org.groups.find((g) => g.openConversationId === body.openConversationId);
  if (!group)
    throw errors.invalid('invalidParameter.openConversationId.invalid', 'openConversationId is invalid');
  return {
    success: true,
    result: {
      openConversationId: group.openConversationId,
      title: group.title,
      icon: '',
      memberCount: group.members.length,
      tag: '',
    },
  };
}

/** POST /topapi/v2/user/getbymobile (legacy). Not found: errcode 60121 (commonly seen; unconfirmed, docs/dingtalk-protocol.md §5.7). */
export function userByMobile(state: SimState, body: Record<string, unknown>) {
  const mobile = String(body.mobile ?? '').replace(/[\s-]/g, '');
  if (!mobile) throw new LegacyError(40035, '缺少参数 mobile');
  const user = state.org.users.find((u) => u.mobile?.replace(/[\s-]/g, '') === mobile && !u.external);
  if (!user) throw new LegacyError(60121, '找不到该用户');
  return {
    errcode: 0,
    errmsg: 'ok',
    result: { userid: user.userId, exclusive_account_userid_list: [] },
    request_id: randomText(8, 'hex'),
  };
}
