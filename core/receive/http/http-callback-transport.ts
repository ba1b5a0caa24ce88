import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { DingTalkEvent } from '../../messages/inbound.js';
import type { ReplayGuard } from '../../storage/replay-guard.js';
import { nestedDeeperThan } from '../../util/json-depth.js';
import type { CardCallbacks } from '../card-callbacks.js';
import { type JsonObject, robotMessageProblem } from '../decode.js';
import type { InboundIntake } from '../inbound-intake.js';
import type { Transport, TransportState } from '../transport.js';
import { type CallbackCrypto, CallbackCryptoError } from './callback-crypto.js';
import { CARD_SIGN_WINDOW_MS, checkCardSignature } from './card-callback-signature.js';
import type { HttpServer } from './http-server.js';
import type { HttpReply, HttpRequest } from './http-types.js';
import { checkRobotSignature, ROBOT_SIGN_WINDOW_MS } from './robot-signature.js';

export interface HttpCallbackOptions {
  paths: { robot: string; events: string; cards: string };
  /** The public URLs of the robot and event routes (for `status`). */
  urls: { robot: string; events: string };
  /** The app secret: robot callbacks are signed with it. */
  clientSecret: string;
  /** Event subscription crypto; without it the events route explains what to configure. */
  crypto?: CallbackCrypto;
  /**
   * Opens robot callbacks that arrive as `{"encrypt"}` (the app's aes_key set for the robot,
   * docs/dingtalk-protocol.md §3.3); absent when `dingtalk.aesKey` is not set.
   */
  robotCrypto?: CallbackCrypto;
  /** The secret card callbacks are signed with (registered with DingTalk at start). */
  cardApiSecret: string;
  /** Registers the card callback URL with DingTalk (HTTP card callbacks). */
  registerCardCallbacks?: () => Promise<void>;
  /** Signatures already used (robot and card callbacks sign only a timestamp): accepted once. */
  replay: ReplayGuard;
  robotBodyLimit?: number;
  eventBodyLimit?: number;
  clock?: () => number;
}

/**
 * How far an event's timestamp may be from our clock. Its signature covers the body, so a
 * captured event cannot carry another one, but an old one could be sent again. DingTalk
 * retries failed pushes (policy UNCONFIRMED, docs/dingtalk-protocol.md §4.5); the simulator re-signs each
 * push, and we allow an hour in case DingTalk re-sends the original, like the robot rule's.
 */
export const EVENT_WINDOW_MS = 60 * 60_000;

/** DingTalk's HTTP event meta fields (PascalCase); Stream carries them as frame headers instead. */
const EVENT_META = new Set(['EventType', 'EventTime', 'CorpId', 'BizId', 'eventId']);

class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * DingTalk's "URL callback" mode (docs/dingtalk-protocol.md §3 and §4): robot messages signed with
 * `timestamp`/`sign`, encrypted event pushes, and card button callbacks, all on the bot's
 * HTTP server. Routes are registered when the transport is built (the server starts before
 * transports do) and answer 503 until it starts. Each request is recorded durably before
 * DingTalk gets its 200; handling happens after the answer.
 */
export class HttpCallbackTransport implements Transport {
  readonly name = 'http';
  /** Answering: between start and stop (503 otherwise, so DingTalk retries elsewhere or later). */
  private accepting = false;
  private current: TransportState = { status: 'idle' };
  /** When DingTalk last verified the event URL (`check_url`). */
  lastCheckUrlAt: number | undefined;
  private cardProblem: string | undefined;
  /** How the last robot message the bot could read came (`status` says it). */
  private robotBodies: 'plain' | 'encrypted' | undefined;
  /** An encrypted robot message was refused for want of the key (`doctor` warns until one is read). */
  private refusedEncrypted = false;
  private readonly now: () => number;

  constructor(
    private readonly options: HttpCallbackOptions,
    private readonly http: HttpServer,
    private readonly intake: InboundIntake,
    private readonly cards: CardCallbacks,
    private readonly log: Logger,
  ) {
    this.now = options.clock ?? Date.now;
    const { paths } = options;
    // DingTalk's bodies are small: a larger one is not DingTalk's.
    const routes: Array<[string, string, number, (req: HttpRequest, reply: HttpReply) => Promise<unknown>]> =
      [
        [paths.robot, 'robot message', options.robotBodyLimit ?? 256 * 1024, (q, r) => this.onRobot(q, r)],
        [paths.events, 'event', options.eventBodyLimit ?? 256 * 1024, (q, r) => this.onEvent(q, r)],
        [paths.cards, 'card callback', 64 * 1024, (q, r) => this.onCard(q, r)],
      ];
    for (const [url, what, bodyLimit, handle] of routes)
      http.route('core', {
        method: 'POST',
        url,
        rawBody: true,
        bodyLimit,
        handler: (req, reply) => this.answer(req, reply, what, () => handle(req, reply)),
      });
  }

  state(): TransportState {
    if (this.current.status !== 'registered') return { ...this.current };
    const { urls } = this.options;
    const checked = this.lastCheckUrlAt
      ? `check_url answered ${new Date(this.lastCheckUrlAt).toISOString()}`
      : 'DingTalk has not verified the event URL since start';
    return {
      ...this.current,
      ...(this.refusedEncrypted ? { problem: 'doctor.state.encryptedWithoutKey' } : {}),
      detail: `robot message URL ${urls.robot}${robotBodyNote(this.robotBodies)}, event subscription URL ${urls.events} (${this.options.crypto ? checked : 'not configured: set dingtalk.aesKey and dingtalk.token'})${this.cardProblem ? `; ${this.cardProblem}` : ''}`,
    };
  }

  async start(): Promise<void> {
    this.accepting = true;
    await this.intake.replayUnfinished();
    this.current = { status: 'registered' };
    try {
      await this.options.registerCardCallbacks?.();
    } catch (err) {
      // Messages and events still work; only card buttons would not reach us.
      this.cardProblem = `card callback URL not registered: ${err instanceof Error ? err.message : String(err)}`;
      this.log.error({ err }, 'http: could not register the card callback URL; card buttons will not work');
    }
  }

  async stop(): Promise<void> {
    this.accepting = false;
    this.intake.stopSweeping();
    this.current = { ...this.current, status: 'stopped' };
  }

  /** Runs a handler; a refusal becomes its status and a log line saying why (never a secret). */
  private async answer(
    req: HttpRequest,
    reply: HttpReply,
    what: string,
    run: () => Promise<unknown>,
  ): Promise<unknown> {
    if (!this.accepting)
      return reply.code(503).send({ error: 'dingops is starting or stopping; DingTalk will retry' });
    try {
      return await run();
    } catch (err) {
      if (!(err instanceof Refusal)) throw err;
      const fields = { status: err.status, reason: err.reason, ip: req.ip };
      if (err.status >= 500) this.log.error(fields, `http: ${what} refused: ${err.message}`);
      else {
        // A scanner or a replay storm is counted (dingops_log_suppressed_total), not written line by line.
        const w = this.http.warnings.take(`http.${err.reason}`);
        if (w.log)
          this.log.warn(
            { ...fields, suppressed: w.suppressed || undefined },
            `http: ${what} refused: ${err.message}`,
          );
      }
      return reply.code(err.status).send({ error: err.message });
    }
  }

  /**
   * A signature is good for one body: the same request again (a retry) goes on to the
   * duplicate checks, another body with a used signature is a forgery.
   */
  private async once(scope: string, signature: string, body: unknown, ttlMs: number): Promise<void> {
    let verdict: string;
    try {
      verdict = await this.options.replay.check(scope, signature, String(body ?? ''), ttlMs);
    } catch (err) {
      this.log.error({ err }, `http: could not check the ${scope} signature against replays`);
      throw new Refusal(503, 'store', 'could not check the request; retry');
    }
    if (verdict === 'reused')
      throw new Refusal(
        401,
        'replayed-signature',
        'this signature was already used with another body (a captured signature cannot carry a new request)',
      );
  }

  private async onRobot(req: HttpRequest, reply: HttpReply): Promise<unknown> {
    const h = req.headers;
    const check = checkRobotSignature(
      header(h.timestamp),
      header(h.sign),
      this.options.clientSecret,
      this.now(),
    );
    if (!check.ok)
      throw new Refusal(
        check.reason === 'missing-headers' || check.reason === 'bad-timestamp' ? 400 : 401,
        check.reason,
        check.detail,
      );
    await this.once('robot', `${header(h.timestamp)}:${header(h.sign)}`, req.body, 2 * ROBOT_SIGN_WINDOW_MS);
    const data = this.robotBody(parseObject(req.body, 'robot message'));
    const invalid = robotMessageProblem(data);
    if (invalid) throw new Refusal(400, 'not-a-message', `not a robot message: ${invalid}`);
    let id: string | undefined;
    try {
      id = await this.intake.acceptRobot(data);
    } catch (err) {
      this.log.error({ err, msgId: data.msgId }, 'http: could not record the message');
      throw new Refusal(503, 'store', 'could not record the message; retry');
    }
    if (!id) throw new Refusal(409, 'replay', `message ${data.msgId} was already received`);
    this.current.lastFrameAt = this.now();
    void this.intake.handleRobot(id, data);
    // "Send nothing" in the webhook reply format (docs/dingtalk-protocol.md §3.2): replies go through the outbox.
    return reply.code(200).send({ msgtype: 'empty' });
  }

  /**
   * The robot message of a callback body: the body itself, or the decrypted `{"encrypt"}`
   * envelope when the app's aes_key is set for the robot (docs/dingtalk-protocol.md §3.3; the
   * headers' signature already authenticated the request).
   */
  private robotBody(body: JsonObject): JsonObject {
    if (!('encrypt' in body) || 'msgId' in body) {
      this.robotBodies = 'plain';
      return body;
    }
    if (typeof body.encrypt !== 'string' || !body.encrypt)
      throw new Refusal(400, 'not-encrypted', 'encrypt must be a non-empty string');
    const crypto = this.options.robotCrypto;
    if (!crypto) {
      this.refusedEncrypted = true;
      throw new Refusal(
        400,
        'encrypted-body',
        'the robot message is encrypted but dingtalk.aesKey is not set: set it to the aes_key of the app (developer console), or turn message encryption off',
      );
    }
    let plain: string;
    try {
      plain = crypto.open(body.encrypt, true);
    } catch (err) {
      if (!(err instanceof CallbackCryptoError)) throw err;
      throw new Refusal(
        err.reason === 'wrong-owner' ? 403 : 400,
        err.reason,
        `robot message: ${err.message}`,
      );
    }
    this.robotBodies = 'encrypted';
    this.refusedEncrypted = false;
    return parseObject(plain, 'decrypted robot message');
  }

  private async onEvent(req: HttpRequest, reply: HttpReply): Promise<unknown> {
    const crypto = this.options.crypto;
    if (!crypto)
      throw new Refusal(
        503,
        'not-configured',
        'event subscription is not configured: set dingtalk.aesKey and dingtalk.token from the event subscription page',
      );
    const q = req.query as Record<string, string | string[] | undefined>;
    const repeated = Object.keys(q).filter((k) => Array.isArray(q[k]));
    if (repeated.length)
      throw new Refusal(
        400,
        'repeated-query',
        `query parameters given more than once: ${repeated.join(', ')}`,
      );
    const one = q as Record<string, string | undefined>;
    // Every spelling DingTalk's docs and SDKs use (docs/dingtalk-protocol.md §4.2).
    const signature = one.msg_signature ?? one.signature;
    const timestamp = one.timeStamp ?? one.timestamp;
    const nonce = one.nonce;
    if (!signature || !timestamp || !nonce)
      throw new Refusal(
        400,
        'missing-query',
        'msg_signature (or signature), timestamp and nonce are required',
      );
    // docs/dingtalk-protocol.md §4.2: milliseconds, or seconds in some senders.
    if (!/^\d{1,16}$/.test(timestamp))
      throw new Refusal(400, 'bad-timestamp', 'timestamp is not an epoch in seconds or milliseconds');
    const sent = Number(timestamp) < 1e12 ? Number(timestamp) * 1000 : Number(timestamp);
    if (Math.abs(this.now() - sent) > EVENT_WINDOW_MS)
      throw new Refusal(
        401,
        'stale-timestamp',
        `timestamp is ${Math.round(Math.abs(this.now() - sent) / 60_000)} min away from this server's clock (limit ${EVENT_WINDOW_MS / 60_000} min)`,
      );
    const body = parseObject(req.body, 'event');
    if (typeof body.encrypt !== 'string' || !body.encrypt)
      throw new Refusal(400, 'not-encrypted', 'expected {"encrypt": "..."}');
    let plain: string;
    try {
      plain = crypto.decrypt(signature, timestamp, nonce, body.encrypt);
    } catch (err) {
      if (!(err instanceof CallbackCryptoError)) throw err;
      const status = err.reason === 'bad-signature' ? 401 : err.reason === 'wrong-owner' ? 403 : 400;
      throw new Refusal(status, err.reason, err.message);
    }
    const flat = parseObject(plain, 'decrypted event');
    const type = typeof flat.EventType === 'string' ? flat.EventType : '';
    if (!type) throw new Refusal(400, 'no-event-type', 'decrypted event has no EventType');
    if (type === 'check_url') {
      this.lastCheckUrlAt = this.now();
      this.log.info('http: DingTalk verified the event subscription URL (check_url)');
      return reply.code(200).send(crypto.successReply());
    }
    const event = httpEvent(flat, plain);
    let id: string | undefined;
    try {
      id = await this.intake.acceptEvent(event);
    } catch (err) {
      this.log.error({ err, eventType: type }, 'http: could not record the event');
      // Not the success reply: DingTalk pushes the event again.
      throw new Refusal(503, 'store', 'could not record the event; retry');
    }
    this.current.lastFrameAt = this.now();
    if (id) void this.intake.handleEvent(id, event);
    else this.log.debug({ eventId: event.id, eventType: type }, 'http: duplicate event ignored');
    // A duplicate gets the success reply too, or DingTalk would keep pushing it.
    return reply.code(200).send(crypto.successReply());
  }

  private async onCard(req: HttpRequest, reply: HttpReply): Promise<unknown> {
    const h = req.headers;
    const check = checkCardSignature(
      header(h['x-ddpaas-signature-timestamp']),
      header(h['x-ddpaas-signature']),
      this.options.cardApiSecret,
      this.now(),
    );
    if (!check.ok)
      throw new Refusal(check.reason === 'missing-headers' ? 400 : 401, check.reason, check.detail);
    await this.once(
      'card',
      `${header(h['x-ddpaas-signature-timestamp'])}:${header(h['x-ddpaas-signature'])}`,
      req.body,
      2 * CARD_SIGN_WINDOW_MS,
    );
    const data = parseObject(req.body, 'card callback');
    if (typeof data.outTrackId !== 'string')
      throw new Refusal(400, 'not-a-callback', 'outTrackId is required');
    // HTTP callbacks carry no per-click id, and two presses of one button have the same body.
    // What a redelivery of one push repeats is its signed timestamp (DingTalk signs a click as
    // it sends it): the timestamp with the body identifies the push, so each press is a click
    // and only a resend of the same push is a duplicate (docs/dingtalk-protocol.md §3.4).
    const id = createHash('sha1')
      .update(`${header(h['x-ddpaas-signature-timestamp'])}\n${String(req.body)}`)
      .digest('hex');
    this.current.lastFrameAt = this.now();
    return reply.code(200).send(await this.cards.handle(data, id, 'http'));
  }
}

/** What the status line says of robot bodies once one has arrived. */
function robotBodyNote(seen: 'plain' | 'encrypted' | undefined): string {
  return seen === 'encrypted' ? ' (robot messages arrive encrypted; decrypted with dingtalk.aesKey)' : '';
}

function header(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function parseObject(body: unknown, what: string): JsonObject {
  if (typeof body !== 'string' || !body.trim())
    throw new Refusal(400, 'empty-body', `the ${what} body is empty`);
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw new Refusal(400, 'bad-json', `the ${what} body is not valid JSON`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw new Refusal(400, 'not-an-object', `the ${what} body is not a JSON object`);
  // DingTalk's bodies are a few levels deep; storing a deeper one would overflow the stack.
  if (nestedDeeperThan(value, 16))
    throw new Refusal(400, 'too-deep', `the ${what} body is nested more than 16 levels deep`);
  return value as JsonObject;
}

/** A decrypted HTTP event as the same typed event a Stream `EVENT` frame gives (docs/dingtalk-protocol.md §4.10). */
function httpEvent(flat: Record<string, unknown>, plain: string): DingTalkEvent {
  const data: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(flat)) if (!EVENT_META.has(k)) data[k] = v;
  const id =
    (typeof flat.eventId === 'string' && flat.eventId) ||
    (typeof flat.BizId === 'string' && flat.BizId) ||
    createHash('sha1').update(plain).digest('hex');
  return {
    type: String(flat.EventType),
    id,
    corpId: typeof flat.CorpId === 'string' ? flat.CorpId : undefined,
    bornAt: Number(flat.EventTime) || undefined,
    data,
    via: 'http',
  };
}
