import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { inject, injectable } from 'tsyringe';
import type { OutboundContent } from '../../cards/card.js';
import { card } from '../../cards/card.js';
import type { CoreConfig } from '../../config/core-schema.js';
import { CoreConfigToken } from '../../config/core-schema.js';
import type { Messenger } from '../../deliver/messenger.js';
import { MessengerToken } from '../../deliver/messenger.js';
import type { I18n, Locale } from '../../i18n/i18n.js';
import { I18nToken } from '../../i18n/i18n.js';
import type { InboundMessage } from '../../messages/inbound.js';
import { LoggerToken } from '../../observe/logger.js';
import type { Metrics } from '../../observe/metrics.js';
import { MetricsToken } from '../../observe/metrics.js';
import { ClockToken } from '../../util/clock.js';
import { token } from '../../util/di-token.js';
import type { AccessControl, AccessDecision } from '../access-control.js';
import { AccessToken } from '../access-control.js';
import type { AuditLog } from '../audit-log.js';
import { AuditToken } from '../audit-log.js';
import { CommandContextImpl } from './command-context.js';
import { PendingConfirmations } from './confirmations.js';
import type { FallbackHandlers } from './fallbacks.js';
import { FallbacksToken } from './fallbacks.js';
import type { HelpBuilder } from './help.js';
import { HelpToken } from './help.js';
import { normalizeInput } from './normalize.js';
import { ParseError, parseArgs } from './parse-args.js';
import type { CommandNode, CommandRegistry } from './registry.js';
import { CommandsToken } from './registry.js';
import type { Caller, OptionSpec } from './spec.js';
import { type Token, TokenizeError, tokenize } from './tokenize.js';
import { usageLine } from './usage.js';
import { PermissionDenied, UserError } from './user-error.js';

const YES_FLAG: OptionSpec = { name: 'yes', short: 'y', type: 'boolean' };
const BUILTIN_FLAGS: readonly OptionSpec[] = [YES_FLAG];

/**
 * Turns an inbound message into a command run: normalize, tokenize, resolve, check
 * permission, parse and validate, confirm if needed, run the handler, reply, audit.
 * Every outcome (including denial and bad input) answers the user and is audited.
 */
@injectable()
export class CommandPipeline {
  private readonly confirmations: PendingConfirmations;
  private readonly locale: Locale;
  private readonly t: (key: string, vars?: Record<string, unknown>) => string;

  constructor(
    @inject(CommandsToken) private readonly registry: CommandRegistry,
    @inject(AccessToken) private readonly access: AccessControl,
    @inject(HelpToken) private readonly help: HelpBuilder,
    @inject(I18nToken) private readonly i18n: I18n,
    @inject(MessengerToken) private readonly messenger: Messenger,
    @inject(AuditToken) private readonly audit: AuditLog,
    @inject(MetricsToken) private readonly metrics: Metrics,
    @inject(LoggerToken) private readonly log: Logger,
    @inject(CoreConfigToken) config: CoreConfig,
    @inject(ClockToken) private readonly now: () => number,
    @inject(FallbacksToken) private readonly fallbacks: FallbackHandlers,
  ) {
    this.locale = config.locale;
    this.t = (key, vars) => this.i18n.t(key, vars, this.locale);
    this.confirmations = new PendingConfirmations(i18n, this.locale, now);
  }

  async handle(message: InboundMessage): Promise<void> {
    const started = performance.now();
    const caller = this.access.caller(message.sender.userId, message.sender.nick);
    const t = this.t;

    if (message.msgType !== 'text') {
      // A picture alone (or pictures in a richText with no words): say that only words are read.
      await this.replyTo(
        message,
        t(message.msgType === 'picture' ? 'pipeline.pictureOnly' : 'pipeline.textOnly'),
      );
      return;
    }
    const input = normalizeInput(message.text);
    if (!input) {
      await this.replyTo(message, t('pipeline.empty'));
      return;
    }
    let tokens: ReturnType<typeof tokenize>;
    try {
      tokens = tokenize(input);
    } catch (err) {
      if (!(err instanceof TokenizeError)) throw err;
      await this.replyTo(message, t(`parse.${err.code}`, { position: err.position + 1 }));
      this.record(message, caller, '?', 'invalid', started, undefined, `parse.${err.code}`);
      return;
    }
    const resolved = this.registry.resolve(tokens);
    if (!resolved) {
      const word = tokens[0]?.value ?? '';
      const suggestions = this.registry.suggest(word, this.help.permitted(caller, message.conversation));
      // Not a command, nor close to one: free text, for the plugins' fallback handlers.
      if (!suggestions.length && this.fallbacks.size) {
        const owner = await this.fallbacks.run({
          message,
          caller,
          locale: this.locale,
          t,
          reply: (content, options) => this.messenger.send({ kind: 'reply', to: message }, content, options),
        });
        if (owner) {
          this.record(message, caller, `(${owner})`, 'ok', started, undefined, 'fallback');
          return;
        }
      }
      await this.replyTo(
        message,
        suggestions.length
          ? t('pipeline.unknownWithSuggestion', {
              command: word,
              suggestions: suggestions.map((s) => `\`${s}\``).join(' / '),
            })
          : t('pipeline.unknown', { command: word }),
      );
      this.record(message, caller, word.slice(0, 100), 'unknown', started);
      return;
    }
    const { node, rest } = resolved;

    const decision = this.access.check(caller, message.conversation, node.path, node.spec);
    if (!decision.allowed) {
      await this.deny(message, caller, node.path, decision, started);
      return;
    }

    if (wantsHelp(rest)) {
      await this.replyTo(message, this.help.command(node, caller, message.conversation, this.locale));
      return;
    }
    if (!node.spec.handler) {
      const sub = rest[0]?.value;
      const children = [...node.children.values()].filter((c) =>
        this.help.may(caller, message.conversation, c),
      );
      const suggestions = sub ? this.registry.suggest(sub, children) : [];
      await this.replyTo(
        message,
        card({
          title: sub ? t('pipeline.unknownSub', { command: node.path, sub }) : node.path,
          status: sub ? 'warning' : 'info',
          body: suggestions.length
            ? t('pipeline.didYouMean', {
                suggestions: suggestions.map((s) => `\`${node.path} ${s}\``).join(' / '),
              })
            : undefined,
          sections: [{ items: children.map((c) => `\`${usageLine(c)}\``) }],
        }),
      );
      this.record(message, caller, node.path, sub ? 'unknown' : 'invalid', started);
      return;
    }

    let values: Record<string, unknown>;
    let builtins: Record<string, unknown>;
    try {
      ({ values, builtins } = parseArgs({
        args: node.spec.args ?? [],
        options: node.spec.options ?? [],
        tokens: rest,
        input,
        mentions: message.mentions,
        builtinFlags: node.spec.confirm ? BUILTIN_FLAGS : undefined,
      }));
    } catch (err) {
      if (!(err instanceof ParseError)) throw err;
      await this.replyTo(
        message,
        card({
          title: t('pipeline.badArgs', { command: node.path }),
          status: 'warning',
          body: t(`parse.${err.code}`, err.vars),
          fields: [{ label: t('help.usage'), value: `\`${usageLine(node)}\`` }],
          footer: t('pipeline.helpHint', { command: node.path }),
        }),
      );
      // The catalog key of what the caller was told: `audit` shows it in the reader's language.
      this.record(message, caller, node.path, 'invalid', started, undefined, `parse.${err.code}`);
      return;
    }

    if (node.spec.confirm && !builtins.yes) {
      await this.replyTo(message, this.confirmations.ask(node, message, values, caller));
      this.record(
        message,
        caller,
        node.path,
        'pending',
        started,
        { node, values, input },
        'confirmation requested',
      );
      return;
    }
    await this.run(node, message, values, caller, started, input);
  }

  private replyTo(message: InboundMessage, content: OutboundContent) {
    return this.messenger.send({ kind: 'reply', to: message }, content);
  }

  /** Runs a parsed command. Used directly by the confirm action. */
  async run(
    node: CommandNode,
    message: InboundMessage,
    values: Record<string, unknown>,
    caller: Caller,
    started = performance.now(),
    input = normalizeInput(message.text),
  ): Promise<void> {
    // Nodes without a handler (command groups) answered with their subcommands before here.
    const handler = node.spec.handler;
    if (!handler) throw new Error(`command '${node.path}' has no handler`);
    const ctx = new CommandContextImpl(
      values,
      message,
      caller,
      node.path,
      this.locale,
      this.i18n,
      this.messenger,
    );
    try {
      const result = await handler(ctx as never);
      if (result !== undefined && result !== null) await this.replyTo(message, result as OutboundContent);
      this.record(message, caller, node.path, 'ok', started, { node, values, input });
    } catch (err) {
      if (err instanceof UserError) {
        await this.replyTo(message, this.i18n.t(err.key, err.vars, this.locale));
        // A refusal the caller was told the reason for (a bad duration, an expired request):
        // invalid, not error, which the audit keeps for what failed inside the bot.
        const outcome = err instanceof PermissionDenied ? 'denied' : 'invalid';
        this.record(message, caller, node.path, outcome, started, { node, values, input }, err.key);
        return;
      }
      const ref = randomUUID().slice(0, 8);
      this.metrics.errors.inc('command');
      this.log.error({ err, command: node.path, ref, msgId: message.id }, 'command failed');
      await this.replyTo(message, this.i18n.t('pipeline.internalError', { ref }, this.locale)).catch(
        () => undefined,
      );
      this.record(
        message,
        caller,
        node.path,
        'error',
        started,
        { node, values, input },
        `internal error ref ${ref}`,
      );
    }
  }

  private async deny(
    message: InboundMessage,
    caller: Caller,
    path: string,
    decision: Exclude<AccessDecision, { allowed: true }>,
    started: number,
  ) {
    this.log.info(
      { user: caller.userId, command: path, reason: decision.reason, conversation: message.conversation.id },
      'permission denied',
    );
    await this.messenger.send(
      { kind: 'reply', to: message },
      this.i18n.t(`access.denied.${decision.reason}`, decision.vars, this.locale),
    );
    this.record(message, caller, path, 'denied', started, undefined, decision.reason);
  }

  /** Settles a pending confirmation exactly once, for the user who asked, and runs its command. */
  async confirm(nonce: string, userId: string): Promise<'ran' | 'expired' | 'notYours'> {
    const pending = this.confirmations.take(nonce, userId);
    if (typeof pending === 'string') return pending;
    const caller = this.access.caller(pending.message.sender.userId, pending.message.sender.nick);
    await this.run(pending.node, pending.message, pending.values, caller);
    return 'ran';
  }

  private record(
    message: InboundMessage,
    caller: Caller,
    command: string,
    outcome: 'ok' | 'denied' | 'invalid' | 'error' | 'unknown' | 'pending',
    started: number,
    parsed?: { node: CommandNode; values: Record<string, unknown>; input: string },
    detail?: string,
  ): void {
    const durationMs = performance.now() - started;
    this.metrics.commands.inc(outcome === 'unknown' ? '(unknown)' : command, outcome);
    if (outcome === 'ok') this.metrics.commandSeconds.observe(durationMs / 1000, command);
    this.audit.record({
      at: this.now(),
      kind: 'command',
      actorId: caller.userId,
      actorNick: caller.nick,
      conversationId: message.conversation.id,
      conversationType: message.conversation.type,
      command,
      // The line as typed, secret argument values masked: what an operator wants to read.
      // Recorded only once parsed, since only then are the secret values known.
      text: parsed && maskSecrets(parsed),
      outcome,
      detail,
      durationMs,
      via: message.via,
    });
  }
}

/** `--help` or `-h` before any `--`. */
function wantsHelp(tokens: Token[]): boolean {
  for (const tok of tokens) {
    if (tok.quoted) continue;
    if (tok.value === '--') return false;
    if (tok.value === '--help' || tok.value === '-h') return true;
  }
  return false;
}

function maskSecrets(parsed: { node: CommandNode; values: Record<string, unknown>; input: string }): string {
  const secret = secretNames(parsed.node);
  if (!secret.size) return parsed.input;
  let text = parsed.input;
  for (const name of secret) {
    const v = parsed.values[name];
    for (const s of Array.isArray(v) ? v : [v])
      if (typeof s === 'string' && s) text = text.split(s).join('***');
  }
  return text;
}

const SECRET_NAMES = new WeakMap<CommandNode, ReadonlySet<string>>();

/** Names of the arguments and options declared `secret` (computed once per command). */
function secretNames(node: CommandNode): ReadonlySet<string> {
  let names = SECRET_NAMES.get(node);
  if (!names) {
    names = new Set(
      [...(node.spec.args ?? []), ...(node.spec.options ?? [])].filter((v) => v.secret).map((v) => v.name),
    );
    SECRET_NAMES.set(node, names);
  }
  return names;
}

/** The DI token of the CommandPipeline. */
export const PipelineToken = token<CommandPipeline>('Pipeline');
