import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { ValidatorFactory } from '@fastify/ajv-compiler';
import type { SerializerFactory } from '@fastify/fast-json-stringify-compiler';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import type { Logger } from 'pino';
import type { Metrics } from '../../observe/metrics.js';
import type { StatusBoard } from '../../observe/status.js';
import { WarnThrottle } from '../../observe/warn-throttle.js';
import { token } from '../../util/di-token.js';
import type { Disposer } from '../../util/disposer.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';

export interface RouteSpec {
  method: HttpMethod;
  url: string;
  /** Bytes; defaults to the server's `bodyLimit`. */
  bodyLimit?: number;
  /** Receive the body as a raw string (for signature checks over exact bytes). */
  rawBody?: boolean;
  handler: (req: FastifyRequest, reply: FastifyReply) => unknown | Promise<unknown>;
}

const RESERVED = ['/healthz', '/readyz', '/metrics'];

/**
 * Fastify's JSON Schema compilers (ajv, fast-json-stringify: ~100 modules, a few MB of
 * memory), loaded the first time a route with a schema is compiled. Fastify would load them
 * at construction; no route of ours has a schema, so an idle bot never carries them.
 */
type AnyFactory = (...args: unknown[]) => unknown;
const LAZY_SCHEMA_COMPILERS = {
  buildValidator: lazyFactory('@fastify/ajv-compiler') as unknown as ValidatorFactory,
  buildSerializer: lazyFactory('@fastify/fast-json-stringify-compiler') as unknown as SerializerFactory,
};

/** The factory Fastify would have made at construction, made (once) on first use instead. */
function lazyFactory(name: string): AnyFactory {
  let factory: AnyFactory | undefined;
  return (...args) => {
    factory ??= (
      createRequire(createRequire(import.meta.url).resolve('fastify'))(name) as () => AnyFactory
    )();
    return factory(...args);
  };
}

/**
 * The bot's HTTP server (Fastify, logging through our pino). Serves health, readiness
 * and metrics; plugins and the HTTP transport add routes. Every route has a body limit
 * and the server a request timeout.
 */
export class HttpServer {
  readonly app: FastifyInstance;
  private readonly owners = new Map<string, string>();
  /** Owners whose routes answer 503: Fastify cannot remove routes once it started. */
  private readonly disabled = new Set<string>();
  /** Each route's current handler (a route re-added after its disposer runs gets the new one). */
  private readonly handlers = new Map<string, RouteSpec['handler']>();
  private address: string | undefined;
  /** Refused and aborted requests are logged, but a flood of them is counted, not written. */
  readonly warnings: WarnThrottle;

  constructor(
    private readonly options: { host: string; port: number; bodyLimit: number; requestTimeoutMs: number },
    log: Logger,
    private readonly metrics: Metrics,
    private readonly status: StatusBoard,
  ) {
    this.warnings = new WarnThrottle(metrics.logSuppressed);
    this.app = Fastify({
      loggerInstance: log.child({ component: 'http' }) as FastifyBaseLogger,
      logController: new LogController({ disableRequestLogging: true }),
      bodyLimit: options.bodyLimit,
      return503OnClosing: true,
      schemaController: { compilersFactory: LAZY_SCHEMA_COMPILERS },
      // Node checks `requestTimeout` (headers and body) every `connectionsCheckingInterval`,
      // 30 s by default: a body trickled in a byte at a time held a request ~87 s against a
      // 10 s limit. Checked often enough here that the limit is the limit.
      serverFactory: (handler) =>
        createServer(
          {
            requestTimeout: options.requestTimeoutMs,
            headersTimeout: options.requestTimeoutMs,
            connectionsCheckingInterval: Math.max(100, Math.min(1000, options.requestTimeoutMs / 4)),
          },
          handler,
        ),
    });
    this.app.server.setTimeout(options.requestTimeoutMs);
    // Raw string bodies for routes that verify signatures over the exact bytes.
    this.app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
      if ((req.routeOptions.config as { rawBody?: boolean } | undefined)?.rawBody) return done(null, body);
      try {
        done(null, body === '' ? undefined : JSON.parse(body as string));
      } catch {
        const err = new Error('request body is not valid JSON') as Error & { statusCode: number };
        err.statusCode = 400;
        done(err);
      }
    });
    this.app.setErrorHandler((err: Error & { statusCode?: number }, req, reply) => {
      const status = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500;
      if (status >= 500) log.error({ err, method: req.method, url: req.url }, 'http handler failed');
      else {
        const w = this.warnings.take('http.rejected');
        if (w.log)
          log.warn(
            {
              method: req.method,
              url: req.url,
              status,
              reason: err.message,
              suppressed: w.suppressed || undefined,
            },
            'http request rejected',
          );
      }
      // Internal details stay in the log; callers get the reason only for their own mistakes.
      reply.code(status).send({ error: status >= 500 ? 'internal error' : err.message });
    });
    this.app.get('/healthz', async () => ({ status: 'ok' }));
    this.app.get('/readyz', async (_req, reply) => {
      const items = await this.status.collect('en');
      const ready = items.filter((i) => i.critical).every((i) => i.ok);
      reply.code(ready ? 200 : 503);
      return { status: ready ? 'ready' : 'not ready', checks: items };
    });
    this.app.get('/metrics', async (_req, reply) => {
      reply.header('content-type', this.metrics.registry.contentType);
      return this.metrics.registry.metrics();
    });
  }

  /**
   * Adds a route during setup. Fastify cannot remove a route once added, so the disposer
   * disables it: it answers 503 until the same owner adds the route again (a restarted plugin).
   */
  route(owner: string, spec: RouteSpec): Disposer {
    const key = `${spec.method} ${spec.url}`;
    if (RESERVED.includes(spec.url)) throw new Error(`${owner}: ${spec.url} is reserved by the core`);
    const existing = this.owners.get(key);
    if (existing && (existing !== owner || !this.disabled.has(key)))
      throw new Error(`${owner}: route ${key} is already registered by ${existing}`);
    if (this.address)
      throw new Error(`${owner}: routes must be registered during setup, before the server starts`);
    const dispose = () => void this.disabled.add(key);
    if (existing) {
      this.handlers.set(key, spec.handler);
      this.disabled.delete(key);
      return dispose;
    }
    this.owners.set(key, owner);
    this.handlers.set(key, spec.handler);
    this.app.route({
      method: spec.method,
      url: spec.url,
      bodyLimit: spec.bodyLimit,
      config: { rawBody: spec.rawBody ?? false },
      handler: (req, reply) => {
        const handler = this.handlers.get(key);
        if (this.disabled.has(key) || !handler)
          return reply.code(503).send({ error: `${owner} is not running` });
        return handler(req, reply);
      },
    });
    return dispose;
  }

  async listen(): Promise<string> {
    try {
      this.address = await this.app.listen({
        host: this.options.host,
        port: this.options.port,
        // Fastify's own line, once: the bot does not log the start a second time.
        listenTextResolver: (address) => `http server listening at ${address}`,
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
    return this.address;
  }

  get url(): string | undefined {
    return this.address;
  }

  async close(): Promise<void> {
    await this.app.close();
  }
}

/** The DI token of the HttpServer. */
export const HttpToken = token<HttpServer>('Http');
