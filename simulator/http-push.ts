import { randomUUID } from 'node:crypto';
import { cardSign, decryptEvent, encryptEvent, eventSignature, nonce, robotSign } from './event-crypto.js';
import { field, strings } from './json-fields.js';
import type { SimApp } from './org/org.js';
import type { SimState } from './state.js';

/** What DingTalk's console shows when the reply to an event push is wrong (docs/dingtalk-protocol.md §4.5). */
export const WRONG_REPLY = 'HTTP请求结果校验返回字段值失败';

export interface PushResult {
  /** The bot answered the way DingTalk requires. */
  ok: boolean;
  status?: number;
  /** Why it did not count as delivered, in the words DingTalk's console uses where it has them. */
  error?: string;
  attempts: number;
}

/** DingTalk gives an event push 2.5 s (docs/dingtalk-protocol.md §4.5); robot callbacks get the same here. */
const PUSH_TIMEOUT_MS = 2_500;

/**
 * DingTalk's "URL callback" side: POSTs robot messages with `timestamp`/`sign`, encrypted
 * events with `msg_signature`/`timestamp`/`nonce` (checking the encrypted `success` reply,
 * re-pushing a failed event), and card button clicks with `x-ddpaas-signature`.
 */
export class HttpPush {
  /** Extra attempts for an event whose reply was wrong or missing. */
  eventRetries = 2;
  eventRetryDelayMs = 200;

  constructor(private readonly state: SimState) {}

  /** Robot message callback (docs/dingtalk-protocol.md §3.1). A reply in the response body is posted to the chat (3.2). */
  async robot(app: SimApp, payload: Record<string, unknown>): Promise<PushResult> {
    if (!app.callbackUrl)
      return this.log(app, 'robot', '', { ok: false, error: 'the app has no callbackUrl', attempts: 0 });
    const timestamp = String(Date.now());
    // With message encryption on, the body is the envelope; the headers are signed as always.
    const body =
      app.encryptRobotMessages && app.aesKey
        ? {
            encrypt: encryptEvent(
              { token: app.token ?? '', aesKey: app.aesKey, ownerKey: app.clientId },
              JSON.stringify(payload),
            ),
          }
        : payload;
    const r = await this.post(app.callbackUrl, JSON.stringify(body), {
      timestamp,
      sign: robotSign(timestamp, app.clientSecret),
    });
    if (r.status === 200 && r.json && typeof r.json === 'object')
      this.inlineReply(app, payload, r.json as Record<string, unknown>);
    return this.log(app, 'robot', app.callbackUrl, {
      ok: r.status === 200,
      status: r.status,
      error: r.status === 200 ? undefined : r.error,
      attempts: 1,
    });
  }

  /** An event push; re-pushed while the reply is wrong (DingTalk retries failed pushes). */
  async event(app: SimApp, type: string, data: Record<string, unknown>): Promise<PushResult> {
    const body = httpEventBody(this.state.org.corpId, type, data);
    let last: PushResult = { ok: false, attempts: 0 };
    for (let attempt = 1; attempt <= 1 + this.eventRetries; attempt++) {
      last = { ...(await this.encryptedPush(app, JSON.stringify(body))), attempts: attempt };
      if (last.ok) break;
      await new Promise((r) => setTimeout(r, this.eventRetryDelayMs));
    }
    return this.log(app, `event ${type}`, app.eventUrl ?? '', last);
  }

  /** What saving the event URL in the console does: push `check_url` and check the reply (docs/dingtalk-protocol.md §4.6). */
  async checkUrl(app: SimApp): Promise<PushResult> {
    return this.log(app, 'check_url', app.eventUrl ?? '', {
      ...(await this.encryptedPush(app, '{"EventType":"check_url"}')),
      attempts: 1,
    });
  }

  /** A card button click for a card created with `callbackType: HTTP`; resolves to the bot's response. */
  async card(
    app: SimApp,
    target: { url: string; apiSecret: string },
    payload: Record<string, unknown>,
  ): Promise<Record<string, unknown> | undefined> {
    const timestamp = String(Date.now());
    const r = await this.post(target.url, JSON.stringify(payload), {
      'x-ddpaas-signature-timestamp': timestamp,
      'x-ddpaas-signature': cardSign(timestamp, target.apiSecret),
    });
    this.log(app, 'card callback', target.url, {
      ok: r.status === 200,
      status: r.status,
      error: r.status === 200 ? undefined : r.error,
      attempts: 1,
    });
    return r.status === 200 && r.json && typeof r.json === 'object'
      ? (r.json as Record<string, unknown>)
      : undefined;
  }

  private async encryptedPush(app: SimApp, plaintext: string): Promise<Omit<PushResult, 'attempts'>> {
    if (!app.eventUrl || !app.aesKey || !app.token)
      return { ok: false, error: 'the app has no event URL, aes_key and token' };
    const keys = { token: app.token, aesKey: app.aesKey, ownerKey: app.clientId };
    const encrypt = encryptEvent(keys, plaintext);
    const timestamp = String(Date.now());
    const n = nonce(8);
    const url = new URL(app.eventUrl);
    url.searchParams.set('msg_signature', eventSignature(keys.token, timestamp, n, encrypt));
    url.searchParams.set('timestamp', timestamp);
    url.searchParams.set('nonce', n);
    const r = await this.post(url.href, JSON.stringify({ encrypt }), {});
    if (r.status !== 200) return { ok: false, status: r.status, error: r.error };
    const problem = replyProblem(keys, r.json);
    return problem
      ? { ok: false, status: r.status, error: `${WRONG_REPLY}: ${problem}` }
      : { ok: true, status: 200 };
  }

  /** A webhook-format message in the robot callback's response is posted to the conversation. */
  private inlineReply(app: SimApp, payload: Record<string, unknown>, reply: Record<string, unknown>): void {
    const type = reply.msgtype;
    if (type !== 'text' && type !== 'markdown') return;
    this.state.addMessage({
      conversation: String(payload.conversationId),
      sender: 'bot',
      kind: type,
      title: type === 'markdown' ? String(field(reply, 'markdown', 'title') ?? '') : undefined,
      content: String(
        type === 'text' ? (field(reply, 'text', 'content') ?? '') : (field(reply, 'markdown', 'text') ?? ''),
      ),
      buttons: [],
      atUserIds: strings(field(reply, 'at', 'atUserIds')),
      via: `callbackResponse:${app.clientId}`,
    });
  }

  private async post(
    url: string,
    body: string,
    headers: Record<string, string>,
  ): Promise<{ status: number; json?: unknown; error?: string }> {
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body,
        signal: AbortSignal.timeout(PUSH_TIMEOUT_MS),
      });
      const text = await res.text();
      let json: unknown;
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {
        json = undefined;
      }
      const said = (json as { error?: unknown } | undefined)?.error;
      const error = res.ok ? undefined : `HTTP ${res.status}${typeof said === 'string' ? `: ${said}` : ''}`;
      return { status: res.status, json, error };
    } catch (err) {
      return { status: 0, error: `request failed: ${err instanceof Error ? err.message : String(err)}` };
    }
  }

  private log(app: SimApp, kind: string, url: string, r: PushResult): PushResult {
    this.state.pushes.push({ at: Date.now(), app: app.clientId, kind, url: url.split('?')[0] ?? url, ...r });
    if (this.state.pushes.length > 10_000) this.state.pushes.splice(0, 5_000);
    return r;
  }
}

/** An HTTP event push before encryption: flat, PascalCase meta beside the business fields (docs/dingtalk-protocol.md §4.10). */
export function httpEventBody(
  corpId: string,
  type: string,
  data: Record<string, unknown>,
): Record<string, unknown> {
  const eventId = randomUUID().replace(/-/g, '');
  return { EventType: type, EventTime: Date.now(), CorpId: corpId, BizId: eventId, eventId, ...data };
}

/** Why an event reply is not DingTalk's required encrypted `success`, or undefined when it is. */
function replyProblem(
  keys: { token: string; aesKey: string; ownerKey: string },
  reply: unknown,
): string | undefined {
  if (!reply || typeof reply !== 'object') return 'the reply is not JSON';
  const r = reply as Record<string, unknown>;
  for (const field of ['msg_signature', 'timeStamp', 'nonce', 'encrypt'])
    if (typeof r[field] !== 'string' || !r[field]) return `missing ${field}`;
  const { msg_signature, timeStamp, nonce: n, encrypt } = r as Record<string, string>;
  if (eventSignature(keys.token, timeStamp ?? '', n ?? '', encrypt ?? '') !== msg_signature)
    return 'msg_signature does not match';
  try {
    const d = decryptEvent(keys.aesKey, encrypt ?? '');
    if (d.message !== 'success') return `decrypted reply is '${d.message.slice(0, 40)}', not 'success'`;
    if (d.ownerKey !== keys.ownerKey) return 'the reply was encrypted for another app key';
  } catch {
    return 'encrypt cannot be decrypted with the app aes_key';
  }
  return undefined;
}
