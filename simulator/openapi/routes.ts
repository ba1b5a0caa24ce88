import type { IncomingMessage } from 'node:http';
import { ApiError, errors, LegacyError, legacyErrors } from '../errors.js';
import type { SimApp } from '../org/org.js';
import type { SimState } from '../state.js';
import { createAndDeliver, registerCardCallback, streamCard, updateCard } from './cards.js';
import { type ApiStyle, authenticate, injectedFault, meter, QpsLimiter, requireScope } from './enforce.js';
import {
  addSceneGroupMembers,
  createSceneGroup,
  getSceneGroup,
  groupBaseInfo,
  userByMobile,
} from './groups.js';
import { batchSend, groupSend, sessionSend } from './robot.js';

interface Route {
  method: string;
  path: string;
  style: ApiStyle;
  /** Permission scope; undefined for token endpoints. */
  scope?: string;
  /** Counts against the monthly quota. */
  metered: boolean;
  handle: (c: { state: SimState; app: SimApp; body: Record<string, unknown>; url: URL }) => unknown;
}

const sceneGroupUuids = new WeakMap<SimState, Map<string, string>>();

const ROUTES: Route[] = [
  {
    method: 'POST',
    path: '/v1.0/robot/groupMessages/send',
    style: 'new',
    scope: 'qyapi_robot_sendmsg',
    metered: true,
    handle: (c) => groupSend(c.state, c.app, c.body),
  },
  {
    method: 'POST',
    path: '/v1.0/robot/oToMessages/batchSend',
    style: 'new',
    scope: 'qyapi_robot_sendmsg',
    metered: true,
    handle: (c) => batchSend(c.state, c.app, c.body),
  },
  {
    method: 'POST',
    path: '/v1.0/card/instances/createAndDeliver',
    style: 'new',
    scope: 'Card.Instance.Write',
    metered: true,
    handle: (c) => createAndDeliver(c.state, c.app, c.body),
  },
  {
    method: 'PUT',
    path: '/v1.0/card/instances',
    style: 'new',
    scope: 'Card.Instance.Write',
    metered: true,
    handle: (c) => updateCard(c.state, c.app, c.body),
  },
  {
    method: 'POST',
    path: '/v1.0/card/callbacks/register',
    style: 'new',
    // The scope of this endpoint is not documented; the card write scope is the closest.
    scope: 'Card.Instance.Write',
    metered: true,
    handle: (c) => registerCardCallback(c.state, c.app, c.body),
  },
  {
    method: 'PUT',
    path: '/v1.0/card/streaming',
    style: 'new',
    scope: 'Card.Streaming.Write',
    metered: true,
    handle: (c) => streamCard(c.state, c.app, c.body),
  },
  {
    method: 'POST',
    path: '/v1.0/im/groups/baseInfos/query',
    style: 'new',
    scope: 'qyapi_chat_base_read',
    metered: true,
    handle: (c) => groupBaseInfo(c.state, c.body),
  },
  {
    method: 'POST',
    path: '/topapi/im/chat/scenegroup/create',
    style: 'legacy',
    scope: 'qyapi_chat_manage',
    metered: true,
    handle: (c) => {
      const uuids = sceneGroupUuids.get(c.state) ?? new Map<string, string>();
      sceneGroupUuids.set(c.state, uuids);
      return createSceneGroup(c.state, c.app, c.body, uuids);
    },
  },
  {
    method: 'POST',
    path: '/topapi/im/chat/scenegroup/member/add',
    style: 'legacy',
    scope: 'qyapi_chat_manage',
    metered: true,
    handle: (c) => addSceneGroupMembers(c.state, c.body),
  },
  {
    method: 'POST',
    path: '/topapi/im/chat/scenegroup/get',
    style: 'legacy',
    scope: 'qyapi_chat_read',
    metered: true,
    handle: (c) => getSceneGroup(c.state, c.body),
  },
  {
    method: 'POST',
    path: '/topapi/v2/user/getbymobile',
    style: 'legacy',
    scope: 'qyapi_get_member_by_mobile',
    metered: true,
    handle: (c) => userByMobile(c.state, c.body),
  },
];

export interface ApiResponse {
  status: number;
  body: unknown;
  app?: string;
  code?: string;
}

/** Serves the OpenAPI subset; undefined when the path is not one of ours. */
export class OpenApi {
  private readonly qps = new QpsLimiter();

  constructor(private readonly state: SimState) {}

  async handle(
    req: IncomingMessage,
    url: URL,
    body: Record<string, unknown>,
  ): Promise<ApiResponse | undefined> {
    const path = url.pathname;
    const method = req.method ?? 'GET';
    if (method === 'POST' && path === '/v1.0/oauth2/accessToken') return this.newToken(body);
    if (method === 'GET' && path === '/gettoken') return this.legacyToken(url);
    if (method === 'POST' && path === '/robot/sendBySession') {
      await this.delay();
      try {
        return { status: 200, body: sessionSend(this.state, url, body) };
      } catch (e) {
        if (e instanceof LegacyError) return { status: 200, body: e.body(), code: String(e.errcode) };
        throw e;
      }
    }
    const route = ROUTES.find((r) => r.path === path && r.method === method);
    if (!route) return undefined;
    let app: SimApp | undefined;
    try {
      app = authenticate(this.state, req, url, route.style);
      if (route.scope) requireScope(app, route.scope, route.style);
      await this.delay();
      const fault = injectedFault(this.state, path, route.style);
      if (fault) throw fault;
      this.qps.check(app, path, route.style);
      if (route.metered) meter(this.state, app, route.style);
      const answer = route.handle({ state: this.state, app, body, url });
      const f = this.state.faults;
      if (f.loseNextReplies > 0 && (!f.pathFilter || path.includes(f.pathFilter))) {
        f.loseNextReplies--;
        throw errors.timeout();
      }
      return { status: 200, body: answer, app: app.clientId };
    } catch (e) {
      if (e instanceof ApiError)
        return { status: e.status, body: e.body(), app: app?.clientId, code: e.code };
      if (e instanceof LegacyError)
        return { status: 200, body: e.body(), app: app?.clientId, code: String(e.errcode) };
      throw e;
    }
  }

  private async delay(): Promise<void> {
    const ms = this.state.faults.latencyMs;
    if (ms > 0) await new Promise((r) => setTimeout(r, ms));
  }

  /** POST /v1.0/oauth2/accessToken {appKey, appSecret} → {accessToken, expireIn} */
  private newToken(body: Record<string, unknown>): ApiResponse {
    const app = this.state.org.apps.find((a) => a.clientId === body.appKey);
    if (!app || app.clientSecret !== body.appSecret) {
      const e = errors.invalidClient();
      return { status: e.status, body: e.body(), code: e.code };
    }
    return {
      status: 200,
      body: {
        accessToken: this.state.issueToken(app.clientId),
        expireIn: Math.round(this.state.tokenTtlMs / 1000),
      },
      app: app.clientId,
    };
  }

  /** GET /gettoken?appkey=&appsecret= → {errcode:0, access_token, expires_in} */
  private legacyToken(url: URL): ApiResponse {
    const key = url.searchParams.get('appkey');
    if (!key) return { status: 200, body: legacyErrors.missingAppKey().body(), code: '40035' };
    const app = this.state.org.apps.find((a) => a.clientId === key);
    if (!app || app.clientSecret !== url.searchParams.get('appsecret'))
      return { status: 200, body: legacyErrors.badCredentials().body(), code: '40096' };
    return {
      status: 200,
      body: {
        errcode: 0,
        errmsg: 'ok',
        access_token: this.state.issueToken(app.clientId),
        expires_in: Math.round(this.state.tokenTtlMs / 1000),
      },
      app: app.clientId,
    };
  }
}
