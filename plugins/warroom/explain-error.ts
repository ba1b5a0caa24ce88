import { DingTalkApiError, UserError } from 'dingops';

/** The permissions war rooms use, each with a message saying what it is for. */
const KNOWN_SCOPES = [
  'qyapi_chat_manage',
  'qyapi_chat_read',
  'qyapi_chat_base_read',
  'qyapi_get_member_by_mobile',
];

/** DingTalk's answer for an unknown or disabled group template (documented for the template APIs). */
const TEMPLATE_MISSING = '665036';
/**
 * A template of another app. DingTalk's code for it is UNCONFIRMED; the simulator answers
 * 4000002, and any answer that says the template is not bound ("未关联") is read the same way.
 */
const TEMPLATE_NOT_BOUND = '4000002';
const NOT_IN_ORG = '60121';

/**
 * What the person who asked should be told about a failed DingTalk call: a message naming
 * the setting or permission to change. Other errors are returned unchanged.
 */
export function explainError(
  err: unknown,
  context: { incidentId: number; templateId: string; robotCode: string },
): unknown {
  if (!(err instanceof DingTalkApiError)) return err;
  const detail = err.message.replace(/^[^:]+: /, '');
  if (err.kind === 'permission') {
    const scope = err.requiredScopes[0] ?? scopeOf(err.api);
    if (scope && KNOWN_SCOPES.includes(scope)) return new UserError(`warroom.err.scope.${scope}`);
    return new UserError('warroom.err.scope', { scope: scope ?? err.code });
  }
  if (err.code === TEMPLATE_MISSING) return new UserError('warroom.err.template', context);
  if (err.code === TEMPLATE_NOT_BOUND || /未关联/.test(err.message))
    return new UserError('warroom.err.templateNotBound', context);
  if (err.code === 'robot.not.in.group' || /robot .*not in this group/i.test(err.message))
    return new UserError('warroom.err.robot', context);
  if (err.code === NOT_IN_ORG) return new UserError('warroom.err.notInOrg', { detail });
  if (err.kind === 'quota') return new UserError('warroom.err.quota');
  if (err.kind === 'auth') return new UserError('warroom.err.auth');
  if (err.retryable) return new UserError('warroom.err.transient', { id: context.incidentId });
  return new UserError('warroom.err.api', { detail });
}

/** The scope an API needs, for permission errors that do not name it (some legacy answers). */
function scopeOf(api: string): string | undefined {
  if (/scenegroup\/(create|member)/.test(api)) return 'qyapi_chat_manage';
  if (/scenegroup\/get/.test(api)) return 'qyapi_chat_read';
  if (/baseInfos/.test(api)) return 'qyapi_chat_base_read';
  if (/getbymobile/.test(api)) return 'qyapi_get_member_by_mobile';
  return undefined;
}
