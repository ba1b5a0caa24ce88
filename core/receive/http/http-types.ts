import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';

/** A request as a route's handler sees it: the body already read, within the route's limit. */
export interface HttpRequest {
  method: string;
  /** The path and query, as sent. */
  url: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The query string's parameters; a repeated one is a list. */
  query: Record<string, string | string[]>;
  /**
   * JSON bodies parsed (`rawBody` routes: the exact text), `text/plain` as text, an empty
   * body `undefined`. Other content types are refused with 415 before the handler runs.
   */
  body: unknown;
  /** The peer's address (no proxy headers are trusted). */
  ip: string;
  socket: Socket;
  raw: IncomingMessage;
}

/** How a handler answers: `reply.code(400).send({ error })`, or return the body (sent with 200). */
export interface HttpReply {
  code(status: number): HttpReply;
  header(name: string, value: string): HttpReply;
  /** Objects as JSON, strings as text, buffers as bytes; a second send is ignored. */
  send(body?: unknown): HttpReply;
  readonly statusCode: number;
  readonly sent: boolean;
}

export interface RouteSpec {
  method: HttpMethod;
  /** An exact path (`/alerts/grafana`); the query string is not part of it. */
  url: string;
  /** Bytes; defaults to the server's `bodyLimit`. */
  bodyLimit?: number;
  /** Receive the body as a raw string (for signature checks over exact bytes). */
  rawBody?: boolean;
  handler: (req: HttpRequest, reply: HttpReply) => unknown | Promise<unknown>;
}

/** Thrown (by the server or a handler) to answer with this status and message. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}
