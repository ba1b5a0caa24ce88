import { errors, legacyErrors } from '../errors.js';
import { field, str, strings } from '../json-fields.js';
import type { SimApp, SimGroup } from '../org/org.js';
import type { SimState } from '../state.js';
import { renderRobotMessage, renderWebhookMessage } from './render.js';

/** Group messages: msgParam at most 15,000 bytes (docs/dingtalk-protocol.md §5.3). */
const GROUP_PARAM_LIMIT = 15_000;
/** Messages to people and webhook bodies: 20,000 bytes. */
const MESSAGE_LIMIT = 20_000;

function parseParam(msgParam: unknown, limit: number): Record<string, unknown> {
  if (typeof msgParam !== 'string')
    throw errors.invalid('invalidParameter.msgParam.invalid', 'msgParam must be in JSON format');
  if (Buffer.byteLength(msgParam) > limit)
    throw errors.invalid('invalidParameter.msgParam.invalid', `msgParam exceeds ${limit} bytes`);
  try {
    const v = JSON.parse(msgParam);
    if (!v || typeof v !== 'object') throw new Error('not an object');
    return v as Record<string, unknown>;
  } catch {
    throw errors.invalid('invalidParameter.msgParam.invalid', 'msgParam must be in JSON format');
  }
}

/** The app's robots: its own, and the robots of its scene-group templates. */
export function checkRobot(state: SimState, app: SimApp, robotCode: unknown): void {
  if (!robotCode) throw errors.invalid('invalidParameter.robotCode.empty', 'robotCode is empty');
  const own =
    robotCode === app.robotCode ||
    state.org.sceneGroupTemplates.some((t) => t.clientId === app.clientId && t.robotCode === robotCode);
  if (!own)
    throw errors.invalid(
      'invalidParameter.robotCode.auth',
      "app's appkey does not match the bot's robotCode",
    );
}

/**
 * Whether that robot is in the group: a scene group has its template's robot only; other
 * groups have the app's robot where the cool app is installed.
 */
/** Whether the robot can speak in the group: a scene group's own robot, or the app's where the cool app is installed. */
export function robotInGroup(app: SimApp, group: SimGroup, robotCode: string): boolean {
  if (group.disbanded) return false;
  return group.robotCode
    ? group.robotCode === robotCode
    : group.coolAppInstalled && robotCode === app.robotCode;
}

export function checkRobotInGroup(app: SimApp, group: SimGroup, robotCode: string): void {
  if (!robotInGroup(app, group, robotCode))
    throw errors.invalid(
      'robot.not.in.group',
      group.robotCode
        ? `robot ${robotCode} is not in this group; scene groups have their template's robot (${group.robotCode})`
        : 'the robot is not in this group; install the cool app in the group',
    );
}

function render(msgKey: unknown, p: Record<string, unknown>) {
  if (!msgKey || typeof msgKey !== 'string')
    throw errors.invalid('invalidParameter.msgKey.empty', 'msgKey is empty');
  try {
    return renderRobotMessage(msgKey, p);
  } catch {
    throw errors.invalid('invalidParameter.msgKey.invalid', `msgKey ${msgKey} is invalid`);
  }
}

/** POST /v1.0/robot/groupMessages/send */
export function groupSend(state: SimState, app: SimApp, body: Record<string, unknown>) {
  checkRobot(state, app, body.robotCode);
  const group = state.org.groups.find((g) => g.openConversationId === body.openConversationId);
  if (!group)
    throw errors.invalid('invalidParameter.openConversationId.invalid', 'openConversationId is invalid');
  checkRobotInGroup(app, group, str(body.robotCode) ?? '');
  const rendered = render(body.msgKey, parseParam(body.msgParam, GROUP_PARAM_LIMIT));
  state.addMessage({
    conversation: group.openConversationId,
    sender: 'bot',
    ...rendered,
    atUserIds: atIds(rendered.content, state),
    via: 'groupMessages/send',
  });
  return { processQueryKey: state.requestId() };
}

/** POST /v1.0/robot/oToMessages/batchSend */
export function batchSend(state: SimState, app: SimApp, body: Record<string, unknown>) {
  // Only the app's own robot has one-to-one chats (a template robot lives in its groups).
  checkRobot(state, app, body.robotCode);
  if (body.robotCode !== app.robotCode)
    throw errors.invalid(
      'invalidParameter.robotCode.auth',
      "app's appkey does not match the bot's robotCode",
    );
  const userIds = body.userIds as unknown;
  if (!Array.isArray(userIds) || !userIds.length)
    throw errors.invalid('invalidParameter.userIds.empty', 'userIds is empty');
  if (userIds.length > 20) throw errors.invalid('invalidParameter.userIds.overMax', 'userIds exceeds 20');
  const rendered = render(body.msgKey, parseParam(body.msgParam, MESSAGE_LIMIT));
  const invalid: string[] = [];
  for (const id of userIds as string[]) {
    const user = state.org.users.find((u) => u.userId === id);
    if (!user || user.external) {
      invalid.push(id);
      continue;
    }
    state.addMessage({
      conversation: state.dmId(id),
      sender: 'bot',
      ...rendered,
      atUserIds: [],
      via: 'oToMessages/batchSend',
    });
  }
  return { processQueryKey: state.requestId(), invalidStaffIdList: invalid, flowControlledStaffIdList: [] };
}

/**
 * POST /robot/sendBySession?session= (the message's sessionWebhook). No access token is
 * needed. An expired session answers errcode 300001 "session 不存在" (the code seen in
 * third-party clients; docs/dingtalk-protocol.md §5.4 marks it UNCONFIRMED).
 */
export function sessionSend(state: SimState, url: URL, body: Record<string, unknown>) {
  const s = state.sessions.get(url.searchParams.get('session') ?? '');
  if (!s || s.expiresAt < Date.now()) throw legacyErrors.sessionGone();
  if (Buffer.byteLength(JSON.stringify(body)) > MESSAGE_LIMIT)
    return { errcode: 460101, errmsg: 'message too long' };
  let rendered: ReturnType<typeof renderWebhookMessage>;
  try {
    rendered = renderWebhookMessage(body);
  } catch {
    return { errcode: 40035, errmsg: '缺少参数 msgtype' };
  }
  const at = strings(field(body, 'at', 'atUserIds'));
  state.addMessage({
    conversation: s.conversation,
    sender: 'bot',
    ...rendered,
    atUserIds: at,
    via: 'sessionWebhook',
  });
  return { errcode: 0, errmsg: 'ok' };
}

function atIds(content: string, state: SimState): string[] {
  return [...content.matchAll(/@([\w.-]+)/g)]
    .map((m) => m[1] ?? '')
    .filter((id) => state.org.users.some((u) => u.userId === id));
}
