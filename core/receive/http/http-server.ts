import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Response as InjectedResponse, InjectOptions } from 'light-my-request';
import type { Logger } from 'pino';
import type { Metrics } from '../../observe/metrics.js';
import type { StatusBoard } from '../../observe/status.js';
import { WarnThrottle } from '../../observe/warn-throttle.js';
import { sameSecretText } from '../../util/constant-time.js';
import { token } from '../../util/di-token.js';
import type { Disposer } from '../../util/disposer.js';
import { Reply } from './http-reply.js';
import { HttpError, type HttpRequest, type RouteSpec } from './http-types.js';
import { parseBody, RequestAborted, readBodyText } from './request-body.js';

export type { HttpMethod, HttpReply, HttpRequest, RouteSpec } from './http-types.js';

const RESERVED = ['/healthz', '/readyz', '/metrics'];
/** A client on this host: IPv4 loopback, IPv6 loopback, or IPv4 loopback mapped into IPv6. */
const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;

interface Route {
  owner: string;
  spec: RouteSpec;
  /** The disposer ran: the route answers 503 until its owner adds it again (a restarted plugin). */
  disabled: boolean;
}

/**
 * The bot's HTTP server, on `node:http`: health, readiness and metrics; plugins and the HTTP
 * transport add routes (exact paths). Every route has a body limit and the server a request
 * timeout. Fastify did this before and cost an idle bot ~4 MB (its module graph, http2 and
 * dns loaded at import) for what is a handful of exact paths with JSON bodies.
 */
export class HttpServer {
  private readonly routes = new Map<string, Route>();
  private readonly server: Server;
  private address: string | undefined;
  private closing = false;
  /** Refused and aborted requests are logged, but a flood of them is counted, not written. */
  readonly warnings: WarnThrottle;

  constructor(
    private readonly options: {
      host: string;
      port: number;
      bodyLimit: number;
      requestTimeoutMs: number;
      statusToken?: string;
    },
    private readonly log: Logger,
    private readonly metrics: Metrics,
    private readonly status: StatusBoard,
  ) {
    this.log = log.child({ component: 'http' });
    this.warnings = new WarnThrottle(metrics.logSuppressed);
    // Node checks `requestTimeout` (headers and body) every `connectionsCheckingInterval`,
    // 30 s by default: a body trickled in a byte at a time held a request ~87 s against a
    // 10 s limit. Checked often enough here that the limit is the limit.
    this.server = createServer(
      {
        requestTimeout: options.requestTimeoutMs,
        headersTimeout: options.requestTimeoutMs,
        connectionsCheckingInterval: Math.max(100, Math.min(1000, options.requestTimeoutMs / 4)),
      },
      (req, res) => this.answer(req, res),
    );
    this.server.setTimeout(options.requestTimeoutMs);
    const core = (url: string, handler: RouteSpec['handler']) =>
      this.routes.set(`GET ${url}`, {
        owner: 'core',
        disabled: false,
        spec: { method: 'GET', url, handler },
      });
    core('/healthz', () => ({ status: 'ok' }));
    core('/readyz', async (req, reply) => {
      const items = await this.status.collect('en');
      const ready = items.filter((i) => i.critical).every((i) => i.ok);
      reply.code(ready ? 200 : 503);
      // A probe needs the code; the checks (host, pid, replicas, plugins, counts) are for the
      // operator: this host, or whoever has server.statusToken.
      if (!this.insider(req)) return { status: ready ? 'ready' : 'not ready' };
      return { status: ready ? 'ready' : 'not ready', checks: items };
    });
    core('/metrics', async (req, reply) => {
      if (!this.insider(req))
        throw new HttpError(
          401,
          this.options.statusToken
            ? 'metrics need Authorization: Bearer <server.statusToken>'
            : 'metrics are served to this host only: set server.statusToken (DINGOPS_STATUS_TOKEN) and scrape with it',
        );
      reply.header('content-type', this.metrics.registry.contentType);
      return this.metrics.registry.metrics();
    });
  }

  /**
   * Whether a request may see the bot's status and metrics: it carries `server.statusToken`,
   * or it comes from this host directly (the container's HEALTHCHECK, `curl` on the machine;
   * not through a proxy, which would make every outside client look local).
   */
  private insider(req: HttpRequest): boolean {
    const token = this.options.statusToken;
    const auth = req.headers.authorization;
    if (token && typeof auth === 'string' && sameSecretText(auth, `Bearer ${token}`)) return true;
    const proxied = req.headers['x-forwarded-for'] !== undefined || req.headers.forwarded !== undefined;
    return !proxied && LOOPBACK.test(req.ip);
  }

  /**
   * Adds a route during setup. A route is not removed once the server runs: the disposer
   * disables it, and it answers 503 until the same owner adds it again (a restarted plugin).
   */
  route(owner: string, spec: RouteSpec): Disposer {
    const key = `${spec.method} ${spec.url}`;
    if (RESERVED.includes(spec.url)) throw new Error(`${owner}: ${spec.url} is reserved by the core`);
    const existing = this.routes.get(key);
    if (existing && (existing.owner !== owner || !existing.disabled))
      throw new Error(`${owner}: route ${key} is already registered by ${existing.owner}`);
    if (this.address)
      throw new Error(`${owner}: routes must be registered during setup, before the server starts`);
    const route: Route = { owner, spec, disabled: false };
    this.routes.set(key, route);
    return () => {
      route.disabled = true;
    };
  }

  private answer(req: IncomingMessage, res: ServerResponse): void {
    this.dispatch(req, res).catch((err) => {
      this.log.error({ err }, 'http: could not answer a request');
      res.destroy();
    });
  }

  /** Answers one request: route, body, handler, and the reply or the error. */
  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const mark = url.indexOf('?');
    const path = mark < 0 ? url : url.slice(0, mark);
    const reply = new Reply(res, method === 'HEAD', () => this.closing);
    try {
      if (this.closing) throw new HttpError(503, 'the server is shutting down');
      const route = this.routes.get(`${method === 'HEAD' ? 'GET' : method} ${path}`);
      if (!route) throw this.notFound(method, path, res);
      if (route.disabled) throw new HttpError(503, `${route.owner} is not running`);
      const text = await readBodyText(req, route.spec.bodyLimit ?? this.options.bodyLimit);
      const request: HttpRequest = {
        method,
        url,
        path,
        headers: req.headers,
        query: parseQuery(mark < 0 ? '' : url.slice(mark + 1)),
        body: parseBody(text, req.headers['content-type'], route.spec.rawBody ?? false),
        ip: req.socket.remoteAddress ?? '',
        socket: req.socket,
        raw: req,
      };
      const result = await route.spec.handler(request, reply);
      if (!reply.sent) reply.send(result);
    } catch (err) {
      this.fail(err, method, url, reply, res);
    }
  }

  private notFound(method: string, path: string, res: ServerResponse): HttpError {
    const allowed: string[] = [...this.routes.values()]
      .filter((r) => r.spec.url === path)
      .map((r) => r.spec.method);
    if (!allowed.length) return new HttpError(404, `no route for ${method} ${path.slice(0, 200)}`);
    if (allowed.includes('GET')) allowed.push('HEAD');
    res.setHeader('allow', allowed.join(', '));
    return new HttpError(405, `${method} is not allowed on ${path.slice(0, 200)}`);
  }

  /** Internal details stay in the log; callers get the reason only for their own mistakes. */
  private fail(err: unknown, method: string, url: string, reply: Reply, res: ServerResponse): void {
    const status = statusOf(err);
    const aborted = err instanceof RequestAborted;
    if (status >= 500) this.log.error({ err, method, url }, 'http handler failed');
    else {
      const w = this.warnings.take('http.rejected');
      if (w.log)
        this.log.warn(
          {
            method,
            url: url.slice(0, 200),
            status,
            reason: (err as Error).message,
            suppressed: w.suppressed || undefined,
          },
          'http request rejected',
        );
    }
    if (aborted || reply.sent) return;
    // A body refused before it was read: the connection cannot carry another request.
    if (status === 413) res.setHeader('connection', 'close');
    reply.code(status).send({ error: status >= 500 ? 'internal error' : (err as Error).message });
  }

  async listen(): Promise<string> {
    try {
      await new Promise<void>((resolve, reject) => {
        this.server.once('error', reject);
        this.server.listen(this.options.port, this.options.host, () => {
          this.server.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE')
        throw new Error(
          `port ${this.options.port} on ${this.options.host} is in use by another program: set server.port in the config (or DINGOPS_PORT) to a free port`,
        );
      if (code === 'EACCES')
        throw new Error(
          `port ${this.options.port} needs privileges this user does not have: set server.port (or DINGOPS_PORT) to 1024 or above`,
        );
      throw err;
    }
    const { address, family, port } = this.server.address() as AddressInfo;
    this.address = `http://${family === 'IPv6' ? `[${address}]` : address}:${port}`;
    this.log.info(`http server listening at ${this.address}`);
    return this.address;
  }

  get url(): string | undefined {
    return this.address;
  }

  /**
   * A request to the server without a socket (tests, and plugin authors' tests): the same
   * routing, limits and errors. Loads light-my-request on first use; a running bot never does.
   */
  async inject(options: InjectOptions | string): Promise<InjectedResponse> {
    const { inject } = await import('light-my-request');
    return inject((req, res) => this.answer(req, res), options);
  }

  /** Stops taking requests (new ones on open connections get 503) and waits for those in flight. */
  async close(): Promise<void> {
    this.closing = true;
    if (!this.server.listening) return;
    // Requests are bounded by the request timeout; a connection still open after it is cut.
    const cut = setTimeout(() => this.server.closeAllConnections(), this.options.requestTimeoutMs);
    cut.unref();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeIdleConnections();
    });
    clearTimeout(cut);
  }
}

function statusOf(err: unknown): number {
  if (err instanceof RequestAborted) return 400;
  const status = (err as { statusCode?: unknown } | undefined)?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 600 ? status : 500;
}

function parseQuery(search: string): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = Object.create(null);
  if (!search) return query;
  for (const [key, value] of new URLSearchParams(search)) {
    const seen = query[key];
    if (seen === undefined) query[key] = value;
    else if (Array.isArray(seen)) seen.push(value);
    else query[key] = [seen, value];
  }
  return query;
}

/** The DI token of the HttpServer. */
export const HttpToken = token<HttpServer>('Http');
