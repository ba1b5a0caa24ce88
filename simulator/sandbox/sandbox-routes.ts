import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson } from '../http-utils.js';
import type { SimState } from '../state.js';
import { asset } from './assets.js';
import { browserAllowed } from './browser-guard.js';
import { LiveFeed } from './live-feed.js';
import { appViews, conversationViews, messagePage, recentCalls } from './views.js';

/** How many calls a page starts its log with, and the most messages one page of history holds. */
const CALLS_ON_OPEN = 200;
const MAX_PAGE = 500;

/**
 * The sandbox: a web page at the simulator's base URL that shows the org's conversations
 * as DingTalk draws them and the DingTalk side (calls, quota, scopes, faults), live. Its
 * actions (say, click, faults, scopes, Stream) use the simulator's own `/sim/api`; these
 * routes serve the page, its first picture and the live feed.
 */
export class Sandbox {
  readonly feed: LiveFeed;
  /** Per app, every scope it has had, so the panel can grant a removed one again. */
  private readonly knownScopes = new Map<string, Set<string>>();

  constructor(
    private readonly state: SimState,
    private readonly connections: (app: string) => number,
  ) {
    this.feed = new LiveFeed(state);
    // The scopes the org started with, so one removed before any page opened can be granted again.
    for (const app of state.org.apps) this.knownScopes.set(app.clientId, new Set(app.scopes));
  }

  /** Refuses browsers from elsewhere (see `browserAllowed`); true when it answered. */
  guard(req: IncomingMessage, res: ServerResponse): boolean {
    if (browserAllowed(req)) return false;
    sendJson(res, 403, {
      error: 'the simulator answers browsers only on its own address (localhost or an IP)',
    });
    return true;
  }

  /** Answers the sandbox's routes; false for any other request. */
  handle(req: IncomingMessage, res: ServerResponse, url: URL): boolean {
    if (req.method !== 'GET') return false;
    const path = url.pathname;
    if (path === '/' || path.startsWith('/sandbox/')) {
      const file = asset(path === '/' ? 'index.html' : path.slice('/sandbox/'.length));
      if (!file) return false;
      res.writeHead(200, {
        'content-type': file.type,
        'content-length': Buffer.byteLength(file.body),
        'cache-control': 'no-cache',
        // Everything the page needs comes from here: no CDN, no inline script, no framing.
        'content-security-policy':
          "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'",
        'x-content-type-options': 'nosniff',
      });
      res.end(file.body);
      return true;
    }
    if (path === '/sim/sandbox/events') {
      this.feed.open(res);
      return true;
    }
    if (path === '/sim/sandbox/state') {
      sendJson(res, 200, this.snapshot());
      return true;
    }
    if (path === '/sim/sandbox/messages') {
      const conversation = this.state.conversationId(url.searchParams.get('conversation') ?? '');
      if (!conversation) {
        sendJson(res, 404, { error: `no conversation '${url.searchParams.get('conversation') ?? ''}'` });
        return true;
      }
      const limit = Math.min(MAX_PAGE, Math.max(1, Number(url.searchParams.get('limit')) || 200));
      const before = Number(url.searchParams.get('before')) || 0;
      sendJson(res, 200, messagePage(this.state, conversation, before, limit));
      return true;
    }
    return false;
  }

  /** Everything the page draws on opening (and after reconnecting). */
  snapshot() {
    return {
      corpId: this.state.org.corpId,
      users: this.state.org.users.map((u) => ({
        userId: u.userId,
        name: u.name,
        admin: u.admin === true,
        external: u.external === true,
      })),
      conversations: conversationViews(this.state),
      apps: appViews(this.state, this.knownScopes, this.connections),
      faults: this.state.faults,
      calls: recentCalls(this.state, CALLS_ON_OPEN),
    };
  }

  close(): void {
    this.feed.close();
  }
}
