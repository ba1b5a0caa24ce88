import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { inject, injectable } from 'tsyringe';
import type { CoreConfig } from '../../config/core-schema.js';
import { CoreConfigToken } from '../../config/core-schema.js';
import type { Messenger } from '../../deliver/messenger.js';
import { MessengerToken } from '../../deliver/messenger.js';
import type { I18n } from '../../i18n/i18n.js';
import { I18nToken } from '../../i18n/i18n.js';
import type { CardAction, Conversation } from '../../messages/inbound.js';
import type { ActionResult, Destination } from '../../messages/outbound.js';
import { LoggerToken } from '../../observe/logger.js';
import type { Metrics } from '../../observe/metrics.js';
import { MetricsToken } from '../../observe/metrics.js';
import { ClockToken } from '../../util/clock.js';
import { token } from '../../util/di-token.js';
import type { AccessControl } from '../access-control.js';
import { AccessToken } from '../access-control.js';
import type { AuditLog, AuditOutcome } from '../audit-log.js';
import { AuditToken } from '../audit-log.js';
import { PermissionDenied, UserError } from '../commands/user-error.js';
import type { ActionRegistry } from './action-registry.js';
import { ActionsToken } from './action-registry.js';

/**
 * Runs a card button click through the same permission check and audit as a typed
 * command. A denied or failed click answers the clicking user; it never changes the card.
 */
@injectable()
export class ActionPipeline {
  constructor(
    @inject(ActionsToken) private readonly registry: ActionRegistry,
    @inject(AccessToken) private readonly access: AccessControl,
    @inject(I18nToken) private readonly i18n: I18n,
    @inject(MessengerToken) private readonly messenger: Messenger,
    @inject(AuditToken) private readonly audit: AuditLog,
    @inject(MetricsToken) private readonly metrics: Metrics,
    @inject(LoggerToken) private readonly log: Logger,
    @inject(CoreConfigToken) private readonly config: CoreConfig,
    @inject(ClockToken) private readonly now: () => number,
  ) {}

  async handle(action: CardAction): Promise<ActionResult> {
    const started = performance.now();
    const locale = this.config.locale;
    const t = (key: string, vars?: Record<string, unknown>) => this.i18n.t(key, vars, locale);
    const caller = this.access.caller(action.user.userId, action.user.nick ?? action.user.userId);
    const conversation: Conversation = action.conversation ?? {
      id: `direct:${action.user.userId}`,
      type: 'direct',
    };
    const where: Destination =
      action.conversation?.type === 'group'
        ? { kind: 'group', openConversationId: action.conversation.id }
        : { kind: 'user', userId: action.user.userId };
    const entry = this.registry.get(action.action);
    const record = (outcome: AuditOutcome, detail?: string) => {
      this.metrics.actions.inc(entry ? action.action : '(unknown)', outcome);
      this.audit.record({
        at: this.now(),
        kind: 'action',
        actorId: caller.userId,
        actorNick: caller.nick,
        conversationId: conversation.id,
        conversationType: conversation.type,
        command: action.action.slice(0, 200),
        args: action.params,
        outcome,
        detail,
        durationMs: performance.now() - started,
        via: action.via,
      });
    };

    if (!entry) {
      this.log.warn({ action: action.action, cardId: action.cardId }, 'card action with no handler');
      record('unknown');
      return { message: t('action.unknown', { action: action.action }) };
    }
    const path = entry.spec.command ?? entry.id;
    const decision = this.access.check(caller, conversation, path, entry.spec);
    if (!decision.allowed) {
      this.log.info({ user: caller.userId, action: entry.id, reason: decision.reason }, 'card action denied');
      record('denied', decision.reason);
      return { message: t(`access.denied.${decision.reason}`, decision.vars) };
    }
    try {
      const result =
        (await entry.spec.handler({
          action,
          params: action.params,
          caller,
          locale,
          t,
          reply: (c, o) => this.messenger.send(where, c, o),
        })) ?? {};
      record('ok');
      return result;
    } catch (err) {
      if (err instanceof UserError) {
        record(err instanceof PermissionDenied ? 'denied' : 'error', err.key);
        return { message: this.i18n.t(err.key, err.vars, locale) };
      }
      const ref = randomUUID().slice(0, 8);
      this.metrics.errors.inc('action');
      this.log.error({ err, action: entry.id, ref }, 'card action failed');
      record('error', `internal error ref ${ref}`);
      return { message: t('pipeline.internalError', { ref }) };
    }
  }
}

/** The DI token of the ActionPipeline. */
export const ActionPipelineToken = token<ActionPipeline>('ActionPipeline');
