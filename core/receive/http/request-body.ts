import type { IncomingMessage } from 'node:http';
import { HttpError } from './http-types.js';

/** The client went away before its body arrived: nobody is left to answer. */
export class RequestAborted extends Error {
  constructor() {
    super('the request was aborted before its body arrived');
    this.name = 'RequestAborted';
  }
}

/**
 * Reads a request's body as text, refusing one over `limit` bytes (413) as soon as its
 * declared length or what has arrived says so, without buffering the rest.
 */
export function readBodyText(req: IncomingMessage, limit: number): Promise<string> {
  const tooLarge = () => new HttpError(413, `request body is larger than ${limit} bytes`);
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(tooLarge());
  if (declared === 0 || (req.headers['content-length'] === undefined && !req.headers['transfer-encoding']))
    return Promise.resolve('');
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (err?: Error) => {
      if (settled) return;
      settled = true;
      req.off('data', onData);
      if (err) reject(err);
      else resolve(Buffer.concat(chunks, size).toString('utf8'));
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        chunks.length = 0;
        // Stop reading: the rest is not wanted (the socket closes after the 413).
        req.pause();
        settle(tooLarge());
      } else chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => settle());
    req.once('error', () => settle(new RequestAborted()));
    req.once('close', () => {
      if (!req.complete) settle(new RequestAborted());
    });
  });
}

/**
 * The body a handler gets: JSON parsed (or kept as text for signature checks), plain text as
 * text, nothing as `undefined`; other content types 415.
 */
export function parseBody(text: string, contentType: string | undefined, raw: boolean): unknown {
  if (text === '') return undefined;
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase();
  if (type === 'application/json') {
    if (raw) return text;
    try {
      return JSON.parse(text);
    } catch {
      throw new HttpError(400, 'request body is not valid JSON');
    }
  }
  if (type === 'text/plain') return text;
  throw new HttpError(
    415,
    `unsupported content type '${(type || '(none)').slice(0, 100)}': send application/json`,
  );
}
