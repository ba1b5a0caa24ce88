import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { CardRenderer, RenderedMessage } from '../cards/card-renderer.js';
import { actionCardWebhookBody } from '../cards/render-action-card.js';
import type { Locale } from '../i18n/i18n.js';
import type { CardInstances, CardTarget } from '../storage/card-instances.js';
import { DingTalkApiError } from './openapi/api-error.js';
import type { OpenApiClient } from './openapi/openapi-client.js';
import type { OutboxRow } from './outbox.js';

export interface SendPayload {
  target: CardTarget;
  /** The sessionWebhook of the message being answered, while it lasts. */
  webhook?: { url: string; expiresAt: number };
  rendered: RenderedMessage;
  atUserIds?: string[];
  cardId?: string;
  /** Another robot than the app's (a scene group's template robot, or the robot a message came to). */
  robotCode?: string;
}

export interface CardUpdatePayload {
  cardId: string;
  params: Record<string, string>;
}

export interface CardStreamPayload {
  cardId: string;
  text: string;
  final: boolean;
  error: boolean;
  fallbackTitle?: string;
}

/** The card template's streaming variable (README, "Cards"). */
export const STREAM_KEY = 'stream';

/** A webhook is used only while it has at least this long left. */
const WEBHOOK_MARGIN_MS = 60_000;

/**
 * Sends what the outbox hands it to DingTalk, one row at a time: the sessionWebhook of the
 * message being answered while it is valid, else the robot OpenAPI for the group or person;
 * interactive cards through the card API (as markdown when the app may not use it).
 */
export class DingTalkDelivery {
  constructor(
    private readonly api: OpenApiClient,
    private readonly cards: CardInstances,
    private readonly renderer: CardRenderer,
    private readonly log: Logger,
    private readonly locale: Locale,
    private readonly now: () => number = Date.now,
  ) {}

  /** Delivers one outbox row; throws for the outbox to retry (or dead-letter) it. */
  async deliver(row: OutboxRow): Promise<void> {
    if (row.kind === 'card-update') {
      const p = row.payload as CardUpdatePayload;
      await this.api.updateCard(p.cardId, p.params);
      return;
    }
    if (row.kind === 'card-stream') {
      await this.deliverStream(row.payload as CardStreamPayload);
      return;
    }
    if (row.kind !== 'send')
      throw new DingTalkApiError('invalid', 'outbox', '', `unknown outbox kind ${row.kind}`);
    const p = row.payload as SendPayload;
    const r = p.rendered;
    if (r.kind === 'interactive') {
      // Interactive renders exist only for cards, which are queued with their id.
      const cardId = p.cardId ?? '';
      try {
        await this.api.createAndDeliverCard({
          outTrackId: cardId,
          cardTemplateId: r.templateId,
          cardParamMap: r.cardParamMap,
          openConversationId: p.target.type === 'group' ? p.target.openConversationId : undefined,
          userId: p.target.type === 'user' ? p.target.userId : undefined,
          atUserIds: p.atUserIds,
          robotCode: p.robotCode,
        });
        return;
      } catch (err) {
        if (!(err instanceof DingTalkApiError) || (err.kind !== 'permission' && err.kind !== 'invalid'))
          throw err;
        // No card permission or a bad template: deliver the markdown form instead of nothing.
        this.log.warn(
          { cardId: p.cardId, reason: err.message },
          'interactive card refused; sending it as markdown',
        );
        await this.cards.markNotInteractive(cardId);
        await this.viaRobot(
          p.target,
          { kind: 'markdown', title: r.fallback.title, text: r.fallback.text, plain: r.plain },
          p.atUserIds,
          p.webhook,
          p.robotCode,
        );
        return;
      }
    }
    await this.viaRobot(p.target, r, p.atUserIds, p.webhook, p.robotCode);
  }

  private async deliverStream(p: CardStreamPayload): Promise<void> {
    try {
      await this.api.streamCard({
        outTrackId: p.cardId,
        guid: randomUUID(),
        key: STREAM_KEY,
        content: p.text,
        isFull: true,
        isFinalize: p.final,
        isError: p.error,
      });
    } catch (err) {
      if (!(err instanceof DingTalkApiError) || (err.kind !== 'permission' && err.kind !== 'invalid'))
        throw err;
      // No Card.Streaming.Write (or a template without the variable): the intermediate states
      // are dropped, the final text still reaches the conversation as a message.
      this.log.warn({ cardId: p.cardId, reason: err.message, final: p.final }, 'card streaming refused');
      if (!p.final) return;
      const card = await this.cards.find(p.cardId);
      if (!card) return;
      // Delivered in this same attempt: should it fail, the row is retried as a whole.
      const markdown = this.renderer.render(
        { markdown: p.text, title: p.fallbackTitle ?? 'Output' },
        { interactive: false },
        this.locale,
      );
      if (markdown.kind !== 'interactive') await this.viaRobot(card.target, markdown, undefined);
    }
  }

  private async viaRobot(
    target: CardTarget,
    r: Exclude<RenderedMessage, { kind: 'interactive' }>,
    atUserIds: string[] | undefined,
    webhook?: SendPayload['webhook'],
    robotCode?: string,
  ): Promise<void> {
    if (webhook && webhook.expiresAt - WEBHOOK_MARGIN_MS > this.now()) {
      try {
        await this.api.sendBySessionWebhook(webhook.url, webhookBody(r, atUserIds));
        return;
      } catch (err) {
        // An expired or unknown session falls back to the OpenAPI at once.
        if (!(err instanceof DingTalkApiError) || (err.kind !== 'gone' && err.kind !== 'invalid')) throw err;
        this.log.info({ reason: err.message }, 'sessionWebhook unusable; sending through the OpenAPI');
      }
    }
    const { msgKey, msgParam } = robotMessage(r);
    if (target.type === 'group')
      await this.api.sendGroupMessage(target.openConversationId, msgKey, msgParam, robotCode);
    else {
      const res = await this.api.sendToUsers([target.userId], msgKey, msgParam);
      if (res.invalidStaffIdList?.includes(target.userId)) {
        throw new DingTalkApiError(
          'invalid',
          'oToMessages/batchSend',
          'invalidStaffId',
          `user ${target.userId} cannot receive messages from this app (not in the organisation, or the app is not available to them)`,
        );
      }
      if (res.flowControlledStaffIdList?.includes(target.userId))
        throw new DingTalkApiError(
          'throttled',
          'oToMessages/batchSend',
          'flowControlled',
          `messages to ${target.userId} are flow-controlled`,
        );
    }
  }
}

function robotMessage(r: Exclude<RenderedMessage, { kind: 'interactive' }>): {
  msgKey: string;
  msgParam: Record<string, string>;
} {
  if (r.kind === 'text') return { msgKey: 'sampleText', msgParam: { content: r.content } };
  if (r.kind === 'markdown') return { msgKey: 'sampleMarkdown', msgParam: { title: r.title, text: r.text } };
  return r.robot;
}

function webhookBody(
  r: Exclude<RenderedMessage, { kind: 'interactive' }>,
  atUserIds?: string[],
): Record<string, unknown> {
  const at = atUserIds?.length ? { at: { atUserIds, isAtAll: false } } : {};
  if (r.kind === 'text') return { msgtype: 'text', text: { content: r.content }, ...at };
  if (r.kind === 'markdown')
    return { msgtype: 'markdown', markdown: { title: r.title, text: r.text }, ...at };
  return { ...actionCardWebhookBody(r.robot), ...at };
}
