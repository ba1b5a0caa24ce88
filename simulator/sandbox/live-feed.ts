import type { ServerResponse } from 'node:http';
import type { CallRecord, SimMessage, SimState, StateChange } from '../state.js';
import { messageView } from './views.js';

/** A viewer that reads slower than the simulator writes is let go past this much unsent data (its page reconnects and reloads). */
const MAX_BACKLOG_BYTES = 8 * 1024 * 1024;
const HEARTBEAT_MS = 15_000;

/**
 * Server-sent events to the sandbox pages: new messages, redrawn messages (card updates and
 * streamed text), answered OpenAPI calls, and a note when conversations or settings change
 * (the page then asks for them). Listens to the state only while a page is open, so a
 * simulator nobody looks at pays nothing.
 */
export class LiveFeed {
  private readonly clients = new Set<ServerResponse>();
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly onMessage = (m: SimMessage) => this.send('message', messageView(this.state, m));
  private readonly onUpdate = (m: SimMessage) => this.send('update', messageView(this.state, m));
  private readonly onCall = (call: CallRecord) => {
    const app = call.app ? this.state.app(call.app) : undefined;
    this.send('call', {
      call,
      quota: app
        ? { clientId: app.clientId, used: this.state.monthly.get(app.clientId) ?? 0, limit: app.monthlyQuota }
        : undefined,
      faults: this.state.faults,
    });
  };
  private readonly onChanged = (what: StateChange) => this.send('changed', { what });

  constructor(private readonly state: SimState) {}

  /** GET /sim/sandbox/events */
  open(res: ServerResponse): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
    });
    // EventSource reconnects after a second when the simulator restarts.
    res.write('retry: 1000\n\n');
    this.clients.add(res);
    res.on('close', () => this.remove(res));
    if (this.clients.size === 1) this.listen(true);
  }

  get viewers(): number {
    return this.clients.size;
  }

  close(): void {
    for (const res of this.clients) res.end();
    this.clients.clear();
    this.listen(false);
  }

  private remove(res: ServerResponse): void {
    if (!this.clients.delete(res)) return;
    if (this.clients.size === 0) this.listen(false);
  }

  private listen(on: boolean): void {
    const method = on ? 'on' : 'off';
    this.state[method]('message', this.onMessage);
    this.state[method]('update', this.onUpdate);
    this.state[method]('call', this.onCall);
    this.state[method]('changed', this.onChanged);
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    if (on) {
      // A comment line now and then keeps proxies and the browser from idling the stream out.
      this.heartbeat = setInterval(() => {
        for (const res of this.clients) res.write(': ping\n\n');
      }, HEARTBEAT_MS);
      this.heartbeat.unref();
    }
  }

  private send(event: string, data: unknown): void {
    if (this.clients.size === 0) return;
    // JSON has no raw line breaks, so one data line carries the whole event.
    const frame = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const res of this.clients) {
      if (res.writableLength > MAX_BACKLOG_BYTES) {
        res.end();
        this.remove(res);
        continue;
      }
      res.write(frame);
    }
  }
}
