import type { ServerResponse } from 'node:http';
import type { HttpReply } from './http-types.js';

/** A handler's reply, written to Node's response once. HEAD gets the headers without the body. */
export class Reply implements HttpReply {
  private status = 200;
  private done = false;

  constructor(
    private readonly res: ServerResponse,
    private readonly head: boolean,
    /** The server is closing: the connection ends with this reply instead of waiting for another. */
    private readonly closing: () => boolean,
  ) {}

  get statusCode(): number {
    return this.status;
  }

  get sent(): boolean {
    return this.done || this.res.writableEnded;
  }

  code(status: number): this {
    this.status = status;
    return this;
  }

  header(name: string, value: string): this {
    if (!this.sent) this.res.setHeader(name, value);
    return this;
  }

  send(body?: unknown): this {
    if (this.sent) return this;
    this.done = true;
    let bytes: Buffer | undefined;
    let type: string | undefined;
    if (body === undefined || body === null) bytes = undefined;
    else if (Buffer.isBuffer(body) || body instanceof Uint8Array) {
      bytes = Buffer.from(body);
      type = 'application/octet-stream';
    } else if (typeof body === 'string') {
      bytes = Buffer.from(body);
      type = 'text/plain; charset=utf-8';
    } else {
      bytes = Buffer.from(JSON.stringify(body));
      type = 'application/json; charset=utf-8';
    }
    if (type && !this.res.hasHeader('content-type')) this.res.setHeader('content-type', type);
    this.res.setHeader('content-length', bytes?.length ?? 0);
    if (this.closing()) this.res.setHeader('connection', 'close');
    this.res.statusCode = this.status;
    if (this.head || !bytes) this.res.end();
    else this.res.end(bytes);
    return this;
  }
}
