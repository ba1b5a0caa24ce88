import { randomUUID } from 'node:crypto';

/** A new-API error (api.dingtalk.com): HTTP status + `{code, message, requestid}` (docs/dingtalk-protocol.md §6.1). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }

  body(): Record<string, unknown> {
    return { code: this.code, message: this.message, requestid: randomUUID().toUpperCase(), ...this.extra };
  }
}

/** A legacy-API error (oapi.dingtalk.com): HTTP 200 + `{errcode, errmsg}`. */
export class LegacyError extends Error {
  constructor(
    readonly errcode: number,
    readonly errmsg: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(errmsg);
  }

  body(): Record<string, unknown> {
    return {
      errcode: this.errcode,
      errmsg: this.errmsg,
      request_id: randomUUID().replace(/-/g, '').slice(0, 16),
      ...this.extra,
    };
  }
}

export const errors = {
  missingToken: () =>
    new ApiError(400, 'AuthenticationFailed.MissingParameter', '缺少参数：x-acs-dingtalk-access-token'),
  invalidToken: () => new ApiError(400, 'InvalidAuthentication', '不合法的access_token'),
  invalidClient: () => new ApiError(400, 'invalidClientIdOrSecret', '无效的clientId或者clientSecret'),
  permission: (scope: string) =>
    new ApiError(
      403,
      'Forbidden.AccessDenied.AccessTokenPermissionDenied',
      '没有调用该接口的权限，接口权限申请参考：https://open.dingtalk.com/document/orgapp-server/add-api-permission',
      {
        accessdenieddetail: { requiredScopes: [scope] },
      },
    ),
  qps: () =>
    new ApiError(403, 'Forbidden.AccessDenied.QpsLimitForAppkeyAndApi', '当前应用调用该接口的QPS超过了限制'),
  monthly: (used: number, limit: number) =>
    new ApiError(
      403,
      'Forbidden.AccessDenied.ApiCountLimitForOrg',
      `您的企业本月api调用量已超过限制，调用量：${used}次，额度：${limit}次，请登录开发者后台-资源管理-查看用量明细`,
    ),
  invalid: (code: string, message: string) => new ApiError(400, code, message),
  notFound: (what: string) => new ApiError(404, 'resource.not.found', `${what} not found`),
  internal: () => new ApiError(500, 'InternalError', '服务器内部错误'),
  timeout: () => new ApiError(504, 'GatewayTimeout', 'Gateway Timeout'),
};

/** The legacy gateway's errcode 88: the real code as sub_code, and in errmsg as `subcode=`. */
function gatewayWrapped(subCode: string, subMsg: string): LegacyError {
  return new LegacyError(88, `ding talk error[subcode=${subCode},submsg=${subMsg}]`, {
    sub_code: subCode,
    sub_msg: subMsg,
  });
}

export const legacyErrors = {
  invalidToken: () => gatewayWrapped('40014', '不合法的access_token'),
  blankToken: () => gatewayWrapped('40000', 'access_token is blank'),
  badCredentials: () => new LegacyError(40096, '不合法的appKey或appSecret'),
  missingAppKey: () => new LegacyError(40035, '缺少参数 corpid or appkey'),
  permission: (scope: string) =>
    new LegacyError(60011, `没有调用该接口的权限，需要权限：${scope}`, { requiredScopes: [scope] }),
  // The gateway wraps throttling and the quota in errcode 88 with the real code as sub_code,
  // as it does for an invalid token (docs/dingtalk-protocol.md §6.1-6.2).
  qps: () => gatewayWrapped('90018', '当前应用调用该接口的QPS超过了限制'),
  monthly: () => gatewayWrapped('90020', '您的企业本月api调用量已超过限制'),
  sessionGone: () => new LegacyError(300001, 'session 不存在'),
};
