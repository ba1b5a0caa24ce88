/**
 * dingops public API for plugin authors and embedders.
 * Everything a plugin needs comes through `definePlugin`'s context; these exports are
 * the types and helpers to write one.
 */
import 'reflect-metadata';

export { definePlugin, type PluginDefinition } from './plugins/define-plugin.js';
export type { PluginContext } from './plugins/plugin-context.js';
export { defineCommand, type CommandSpec, type CommandContext, type ValueSpec, type OptionSpec, type Caller } from './commands/spec.js';
export { UserError } from './commands/user-error.js';
export { card, isCard, type Card, type CardButton, type CardField, type CardSection, type CardStatus } from './cards/card.js';
export type { ActionSpec, ActionContext, ActionResult } from './actions/action-registry.js';
export type { InboundMessage, CardAction, Conversation, Sender, Mention } from './messages/inbound.js';
export type { Destination, OutboundContent, SendOptions, SendReceipt, Messenger } from './messages/outbound.js';
export type { DingopsEvents, DingTalkEvent } from './events/event-bus.js';
export type { KeyValueStore } from './storage/kv-store.js';
export type { MigrationList } from './storage/migrations.js';
export { withAutoId } from './storage/schema-helpers.js';
export type { I18nText, Locale, Catalog, Catalogs } from './i18n/i18n.js';
export type { StatusItem } from './runtime/status.js';
export { TOKENS } from './tokens.js';
export { Bot, type BotOptions } from './runtime/bot.js';
export { loadConfig } from './config/load-config.js';
export { parseDuration, formatDuration } from './util/duration.js';
