/**
 * dingops public API for plugin authors and embedders.
 * Everything a plugin needs comes through `definePlugin`'s context; these exports are
 * the types and helpers to write one.
 */
import 'reflect-metadata';

export type { OutboundContent } from './cards/card.js';
export {
  type Card,
  type CardButton,
  type CardField,
  type CardSection,
  type CardStatus,
  card,
  isCard,
} from './cards/card.js';
export { mdCode, mdText } from './cards/markdown-escape.js';
export { durationSetting } from './config/duration-setting.js';
export { loadConfig } from './config/load-config.js';
export type { ActionContext, ActionSpec } from './decide/actions/action-registry.js';
export type { FallbackContext, FallbackHandler } from './decide/commands/fallbacks.js';
export {
  type AnyCommandSpec,
  type Caller,
  type CommandContext,
  type CommandSpec,
  defineCommand,
  type OptionSpec,
  type ValueSpec,
} from './decide/commands/spec.js';
export { PermissionDenied, UserError } from './decide/commands/user-error.js';
export type { Messenger, SendOptions, SendReceipt, StreamOptions } from './deliver/messenger.js';
export { type ApiErrorKind, DingTalkApiError } from './deliver/openapi/api-error.js';
export {
  type CheckContext,
  type CheckResult,
  type CheckSeverity,
  checkLine,
  type DiagnosticCheck,
} from './diagnostics/diagnostics.js';
export { GroupReferenceError, type KnownGroup } from './directory/group-registry.js';
export type { PersonResolution } from './directory/people-directory.js';
export type { DingopsEvents } from './events/event-bus.js';
export type { Catalog, Catalogs, I18nText, Locale } from './i18n/i18n.js';
export type {
  CardAction,
  Conversation,
  DingTalkEvent,
  InboundMessage,
  Mention,
  Sender,
} from './messages/inbound.js';
export type { ActionResult, Destination } from './messages/outbound.js';
export type { StatusItem } from './observe/status.js';
export { definePlugin, type PluginDefinition } from './plugins/define-plugin.js';
export type { PluginContext } from './plugins/plugin-context.js';
export type { PluginServices } from './plugins/plugin-services.js';
export {
  HttpError,
  type HttpMethod,
  type HttpReply,
  type HttpRequest,
  type RouteSpec,
} from './receive/http/http-types.js';
export { Bot, type BotOptions } from './runtime/bot.js';
export type { KeyValueStore } from './storage/kv-store.js';
export type { MigrationList } from './storage/migrations.js';
export { withAutoId } from './storage/schema-helpers.js';
export { capText } from './util/cap-text.js';
export { sameSecretText } from './util/constant-time.js';
export { formatDuration, parseDuration } from './util/duration.js';
export { nestedDeeperThan } from './util/json-depth.js';
export { localTime } from './util/local-time.js';
export { present } from './util/present.js';
export { SecretRedactor } from './util/redact.js';
export { StreamRedactor } from './util/stream-redactor.js';
