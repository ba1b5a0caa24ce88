import pino, { type Logger } from 'pino';
import { token } from '../util/di-token.js';
import type { SecretRedactor } from '../util/redact.js';

export interface LoggerOptions {
  level: string;
  pretty?: boolean;
  redactor: SecretRedactor;
  /** Write somewhere other than stdout (tests). */
  destination?: pino.DestinationStream;
}

/** Paths redacted whatever their value (headers, config objects, payloads). */
export const REDACT_PATHS = [
  '*.clientSecret',
  '*.appSecret',
  '*.aesKey',
  '*.token',
  '*.accessToken',
  '*.access_token',
  '*.sessionWebhook',
  '*.password',
  'headers.authorization',
  'req.headers.authorization',
  'req.headers["x-acs-dingtalk-access-token"]',
  'headers["x-acs-dingtalk-access-token"]',
  'req.headers.sign',
  'headers.sign',
];

/**
 * pino with two layers of redaction: by path (known secret fields) and by value (every
 * registered secret, anywhere in the message or fields, e.g. inside an error message).
 */
export function createLogger(options: LoggerOptions): Logger {
  const { redactor } = options;
  const pretty = options.pretty ?? (process.stdout.isTTY === true && !options.destination);
  const opts: pino.LoggerOptions = {
    level: options.level,
    redact: { paths: REDACT_PATHS, censor: '***' },
    hooks: {
      logMethod(args, method) {
        if (redactor.size) {
          for (let i = 0; i < args.length; i++) {
            const a = args[i];
            if (typeof a === 'string') args[i] = redactor.redact(a);
            else if (a instanceof Error) args[i] = redactError(a, redactor);
            else if (a && typeof a === 'object')
              args[i] = redactor.redactDeep(serializeErrors(a as Record<string, unknown>, redactor));
          }
        }
        method.apply(this, args as Parameters<typeof method>);
      },
    },
  };
  if (options.destination) return pino(opts, options.destination);
  if (pretty)
    return pino({
      ...opts,
      transport: {
        target: 'pino-pretty',
        options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' },
      },
    });
  return pino(opts);
}

function redactError(err: Error, redactor: SecretRedactor): Error {
  const copy = new Error(redactor.redact(err.message));
  copy.name = err.name;
  copy.stack = err.stack ? redactor.redact(err.stack) : undefined;
  return copy;
}

function serializeErrors(obj: Record<string, unknown>, redactor: SecretRedactor): Record<string, unknown> {
  if (!('err' in obj) || !(obj.err instanceof Error)) return obj;
  const e = obj.err;
  return {
    ...obj,
    err: {
      type: e.name,
      message: redactor.redact(e.message),
      stack: e.stack ? redactor.redact(e.stack) : undefined,
      code: (e as { code?: unknown }).code,
    },
  };
}

/** The DI token of the Logger. */
export const LoggerToken = token<Logger>('Logger');
