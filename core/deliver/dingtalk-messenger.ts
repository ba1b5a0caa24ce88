import { randomUUID } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import type { Logger } from 'pino';
import type { OutboundContent } from '../cards/card.js';
import { type Card, isCard } from '../cards/card.js';
import type { CardRenderer, RenderedMessage } from '../cards/card-renderer.js';
import { actionCardWebhookBody } from '../cards/render-action-card.js';
import { renderInteractive } from '../cards/render-interactive.js';
import type { Locale } from '../i18n/i18n.js';
import type { Destination } from '../messages/outbound.js';
import type { Database } from '../storage/database.js';
import type { Messenger, SendOptions, SendReceipt, StreamOptions } from './messenger.js';
import type { ApiBudget } from './openapi/api-budget.js';
import { DingTalkApiError } from './openapi/api-error.js';
import type { OpenApiClient } from './openapi/openapi-client.js';
import type { Outbox, OutboxRow } from './outbox.js';

/** Where a queued message goes, resolved when it was sent. */
type Target = { type: 'group'; openConversationId: string } | { type: 'user'; userId: string };

interface SendPayload {
  target: Target;
  /** The sessionWebhook of the message being answered, while it lasts. */
  webhook?: { url: string; expiresAt: number };
  rendered: RenderedMessage;
  atUserIds?: string[];
  cardId?: string;
  /** Another robot than the app's (a scene group's template robot, or the robot a message came to). */
  robotCode?: string;
}

interface CardUpdatePayload {
  cardId: string;
  params: Record<string, string>;
}

interface CardStreamPayload {
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
 * Delivers messages to DingTalk through the durable outbox. Content is rendered once, when
 * queued; the route is chosen when delivered: the sessionWebhook of the message being
 * answered while it is valid, else the robot OpenAPI for the group or person; interactive
 * cards always through the card API (falling back to markdown when the app may not use it).
 */
export class DingTalkMessenger implements Messenger {
  private readonly db: Kysely<any>;

  constructor(
    private readonly outbox: Outbox,
    private readonly api: OpenApiClient,
    private readonly renderer: CardRenderer,
    private readonly store: Database,
    private readonly log: Logger,
    private readonly locale: Locale,
    private readonly budget?: ApiBudget,
    private readonly now: () => number = Date.now,
  ) {
    this.db = store.db;
  }

  async start(): Promise<void> {
    await this.budget?.start();
    await this.outbox.start();
  }

  /** Stops delivering; queued messages stay in the store for the next start. */
  async close(): Promise<void> {
    await this.outbox.stop();
    await this.budget?.stop();
  }

  async send(to: Destination, content: OutboundContent, options: SendOptions = {}): Promise<SendReceipt> {
    const interactive = Boolean(this.renderer.templateId);
    const rendered = this.renderer.render(content, { interactive }, options.locale ?? this.locale);
    const { target, webhook, robotCode } = resolve(to);
    const cardId = isCard(content) ? `dingops-${randomUUID()}` : undefined;
    if (cardId) {
      // Committed before the message is queued, so a click always finds its card; a raw,
      // group-committed statement, since every card sent passes here.
      await this.store.write(
        sql`insert into card_instance (card_id, interactive, destination, created_at) values (${cardId}, ${rendered.kind === 'interactive' ? 1 : 0}, ${JSON.stringify(target)}, ${this.now()})`.compile(
          this.db,
        ),
      );
    }
    const atUserIds = [...(options.atUserIds ?? []), ...(isCard(content) ? (content.mentions ?? []) : [])];
    const payload: SendPayload = {
      target,
      webhook,
      rendered,
      atUserIds: atUserIds.length ? atUserIds : undefined,
      cardId,
      robotCode: options.robotCode ?? robotCode,
    };
    const id = await this.outbox.enqueue('send', keyOf(target), payload, { cardId });
    return { id: String(id), cardId };
  }

  async updateCard(cardId: string, card: Card): Promise<void> {
    const row = await this.db
      .selectFrom('card_instance')
      .selectAll()
      .where('card_id', '=', cardId)
      .executeTakeFirst();
    if (!row) throw new Error(`unknown card ${cardId}`);
    const target = JSON.parse(row.destination) as Target;
    if (Number(row.interactive) === 1) {
      const params = renderInteractive(card, this.renderer.context(this.locale));
      await this.outbox.enqueueLatest<CardUpdatePayload>('card-update', keyOf(target), cardId, {
        cardId,
        params,
      });
      return;
    }
    // Markdown and action cards cannot be edited in DingTalk: the new state is posted.
    await this.send(
      target.type === 'group'
        ? { kind: 'group', openConversationId: target.openConversationId }
        : { kind: 'user', userId: target.userId },
      card,
    );
  }

  async streamCard(cardId: string, text: string, options: StreamOptions = {}): Promise<boolean> {
    const row = await this.db
      .selectFrom('card_instance')
      .selectAll()
      .where('card_id', '=', cardId)
      .executeTakeFirst();
    if (!row || Number(row.interactive) !== 1) return false;
    const target = JSON.parse(row.destination) as Target;
    // Latest wins: a stream that outpaces DingTalk costs one call per delivery, not one per update.
    await this.outbox.enqueueLatest<CardStreamPayload>('card-stream', keyOf(target), cardId, {
      cardId,
      text,
      final: options.final === true,
      error: options.error === true,
      fallbackTitle: options.fallbackTitle,
    });
    return true;
  }

  /** The outbox's deliverer. */
  deliver = async (row: OutboxRow): Promise<void> => {
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
      try {
        await this.api.createAndDeliverCard({
          outTrackId: p.cardId!,
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
        await this.db
          .updateTable('card_instance')
          .set({ interactive: 0 })
          .where('card_id', '=', p.cardId!)
          .execute();
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
  };

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
      const row = await this.db
        .selectFrom('card_instance')
        .selectAll()
        .where('card_id', '=', p.cardId)
        .executeTakeFirst();
      if (!row) return;
      const t = JSON.parse(row.destination) as Target;
      await this.send(
        t.type === 'group'
          ? { kind: 'group', openConversationId: t.openConversationId }
          : { kind: 'user', userId: t.userId },
        { markdown: p.text, title: p.fallbackTitle ?? 'Output' },
      );
    }
  }

  private async viaRobot(
    target: Target,
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

function resolve(to: Destination): {
  target: Target;
  webhook?: SendPayload['webhook'];
  robotCode?: string;
} {
  if (to.kind === 'group') return { target: { type: 'group', openConversationId: to.openConversationId } };
  if (to.kind === 'user') return { target: { type: 'user', userId: to.userId } };
  const m = to.to;
  const target: Target =
    m.conversation.type === 'group'
      ? { type: 'group', openConversationId: m.conversation.id }
      : { type: 'user', userId: m.sender.userId };
  const webhook =
    m.reply.sessionWebhook && m.reply.sessionWebhookExpiresAt
      ? { url: m.reply.sessionWebhook, expiresAt: m.reply.sessionWebhookExpiresAt }
      : undefined;
  // A group answer comes from the robot that was spoken to (a scene group's template robot).
  return { target, webhook, robotCode: target.type === 'group' ? m.reply.robotCode : undefined };
}

function keyOf(t: Target): string {
  return t.type === 'group' ? `group:${t.openConversationId}` : `user:${t.userId}`;
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
