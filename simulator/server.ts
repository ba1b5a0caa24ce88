import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpPush } from './http-push.js';
import { parseJson, readBody, sendJson } from './http-utils.js';
import { obj, str } from './json-fields.js';
import { OpenApi } from './openapi/routes.js';
import { Sandbox } from './sandbox/sandbox-routes.js';
import type { SimState } from './state.js';
import { StreamGateway } from './stream-gateway.js';
import { TestApi, TestApiError } from './test-api.js';

/**
 * One HTTP server plays every DingTalk host: the gateway (`/v1.0/gateway/...`), the
 * WebSocket endpoint (`/connect`), the new and legacy OpenAPI, sessionWebhooks, and the
 * simulator's own `/sim/api`.
 */
export class SimServer {
  readonly server: Server;
  readonly gateway: StreamGateway;
  readonly openApi: OpenApi;
  readonly api: TestApi;
  /** URL callback mode: pushes to the bot's HTTP routes. */
  readonly push: HttpPush;
  /** The web page at the base URL: conversations as DingTalk shows them, and the DingTalk side. */
  readonly sandbox: Sandbox;
  private base = '';

  constructor(
    readonly state: SimState,
    options: { pingIntervalMs?: number; streamConnections?: 'all' | 'newest' } = {},
  ) {
    this.gateway = new StreamGateway(state, () => this.base.replace(/^http/, 'ws'), options);
    this.openApi = new OpenApi(state);
    this.push = new HttpPush(state);
    this.api = new TestApi(state, this.gateway, () => ({ base: this.base }), this.push);
    this.sandbox = new Sandbox(state, (app) => this.api.connections(app));
    this.server = createServer((req, res) => {
      this.route(req, res).catch((err) => {
        const status = (err as { status?: number }).status ?? (err instanceof SyntaxError ? 400 : 500);
        sendJson(res, status, {
          code: status === 400 ? 'InvalidJson' : 'InternalError',
          message: err instanceof Error ? err.message : String(err),
        });
      });
    });
    this.server.on('upgrade', (req, socket, head) => this.gateway.handleUpgrade(req, socket, head));
  }

  async listen(port: number, host: string): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve());
    });
    const addr = this.server.address() as AddressInfo;
    this.base = `http://${host.includes(':') ? `[${host}]` : host}:${addr.port}`;
    return this.base;
  }

  get url(): string {
    return this.base;
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const url = new URL(req.url ?? '/', this.base || 'http://sim');
    if (this.sandbox.guard(req, res) || this.sandbox.handle(req, res, url)) return;
    const text = await readBody(req);
    if (url.pathname.startsWith('/sim/api/')) return this.testApi(req, res, url, text);
    const body = parseJson(text) as Record<string, unknown>;
    if (req.method === 'POST' && url.pathname === '/v1.0/gateway/connections/open') {
      const [status, out] = this.gateway.open(body);
      this.record(
        req,
        url,
        status,
        started,
        str(body.clientId),
        status === 200 ? undefined : (out as { code?: string }).code,
      );
      return sendJson(res, status, out);
    }
    const r = await this.openApi.handle(req, url, body);
    if (!r) {
      this.record(req, url, 404, started);
      // Unknown path: the legacy host answers errcode 22 "Invalid method" (docs/dingtalk-protocol.md §6.1).
      return sendJson(res, 404, { errcode: 22, errmsg: 'Invalid method' });
    }
    this.record(req, url, r.status, started, r.app, r.code);
    sendJson(res, r.status, r.body);
  }

  private record(
    req: IncomingMessage,
    url: URL,
    status: number,
    started: number,
    app?: string,
    code?: string,
  ): void {
    this.state.recordCall({
      at: Date.now(),
      app,
      method: req.method ?? 'GET',
      path: url.pathname,
      status,
      code,
      durationMs: performance.now() - started,
    });
  }

  private async testApi(req: IncomingMessage, res: ServerResponse, url: URL, text: string): Promise<void> {
    const api = this.api;
    const p = url.pathname.slice('/sim/api'.length);
    const body = (parseJson(text) ?? {}) as Record<string, unknown>;
    const routes: Array<[string, RegExp, (m: RegExpExecArray) => unknown]> = [
      ['POST', /^\/messages$/, () => api.say(body as never)],
      [
        'POST',
        /^\/messages\/([^/]+)\/repush$/,
        (m) => api.repush(decodeURIComponent(m[1] ?? ''), str(body.app)),
      ],
      [
        'GET',
        /^\/messages$/,
        () =>
          api.messages(
            url.searchParams.get('conversation') ?? '',
            Number(url.searchParams.get('after') ?? 0),
          ),
      ],
      ['GET', /^\/cards\/([^/]+)$/, (m) => api.card(decodeURIComponent(m[1] ?? ''))],
      [
        'POST',
        /^\/cards\/([^/]+)\/actions$/,
        (m) =>
          api.click(
            decodeURIComponent(m[1] ?? ''),
            String(body.sender ?? ''),
            obj(body.params) as Record<string, string>,
          ),
      ],
      ['GET', /^\/calls$/, () => api.calls(url.searchParams.get('app') ?? undefined)],
      ['POST', /^\/faults$/, () => api.setFaults(body)],
      ['DELETE', /^\/faults$/, () => api.setFaults(null)],
      ['POST', /^\/apps\/([^/]+)$/, (m) => api.updateApp(decodeURIComponent(m[1] ?? ''), body)],
      ['POST', /^\/events$/, () => api.event(String(body.type ?? ''), obj(body.data), str(body.app))],
      [
        'POST',
        /^\/groups\/([^/]+)\/(install|uninstall|rename|disband)$/,
        (m) => api.groupChange(decodeURIComponent(m[1] ?? ''), m[2] as 'install', body),
      ],
      ['GET', /^\/pushes$/, () => api.pushes(url.searchParams.get('app') ?? undefined)],
      ['POST', /^\/stream\/(disconnect|drop|ping)$/, (m) => api.stream(m[1] as 'disconnect', str(body.app))],
      ['GET', /^\/org$/, () => this.state.org],
    ];
    try {
      for (const [method, re, run] of routes) {
        const m = req.method === method ? re.exec(p) : null;
        if (m) return sendJson(res, 200, await run(m));
      }
      sendJson(res, 404, { error: `no such simulator API: ${req.method} ${p}` });
    } catch (err) {
      if (err instanceof TestApiError) return sendJson(res, err.status, { error: err.message });
      throw err;
    }
  }

  async close(): Promise<void> {
    this.sandbox.close();
    this.gateway.close();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections?.();
  }
}
