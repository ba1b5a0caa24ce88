import type { InjectionToken } from 'tsyringe';

/**
 * Explicit DI tokens for core services. esbuild (vitest, tsx) emits no decorator
 * metadata, so every injectable names its constructor parameters with these.
 * Plugins resolve services with `ctx.services.resolve(TOKENS.X)`.
 */
function token<T>(name: string): InjectionToken<T> & symbol {
  return Symbol.for(`dingops.${name}`) as InjectionToken<T> & symbol;
}

export const TOKENS = {
  Config: token<import('./config/load-config.js').LoadedConfig>('Config'),
  CoreConfig: token<import('./config/core-schema.js').CoreConfig>('CoreConfig'),
  Logger: token<import('pino').Logger>('Logger'),
  Redactor: token<import('./util/redact.js').SecretRedactor>('Redactor'),
  I18n: token<import('./i18n/i18n.js').I18n>('I18n'),
  Database: token<import('./storage/database.js').Database>('Database'),
  Audit: token<import('./audit/audit-log.js').AuditLog>('Audit'),
  Access: token<import('./access/access-control.js').AccessControl>('Access'),
  Commands: token<import('./commands/registry.js').CommandRegistry>('Commands'),
  Actions: token<import('./actions/action-registry.js').ActionRegistry>('Actions'),
  Help: token<import('./commands/help.js').HelpBuilder>('Help'),
  Renderer: token<import('./cards/card-renderer.js').CardRenderer>('Renderer'),
  Messenger: token<import('./messages/outbound.js').Messenger>('Messenger'),
  Metrics: token<import('./http/metrics.js').Metrics>('Metrics'),
  Events: token<import('./events/event-bus.js').EventBus>('Events'),
  Scheduler: token<import('./scheduler/scheduler.js').Scheduler>('Scheduler'),
  Http: token<import('./http/http-server.js').HttpServer>('Http'),
  Status: token<import('./runtime/status.js').StatusBoard>('Status'),
  Pipeline: token<import('./commands/command-pipeline.js').CommandPipeline>('Pipeline'),
  ActionPipeline: token<import('./actions/action-pipeline.js').ActionPipeline>('ActionPipeline'),
  Clock: token<() => number>('Clock'),
  OpenApi: token<import('./dingtalk/openapi-client.js').OpenApiClient>('OpenApi'),
  Outbox: token<import('./dingtalk/outbox.js').Outbox>('Outbox'),
  Inbox: token<import('./dingtalk/inbox.js').Inbox>('Inbox'),
  ApiBudget: token<import('./dingtalk/api-budget.js').ApiBudget>('ApiBudget'),
  Groups: token<import('./groups/group-registry.js').GroupRegistry>('Groups'),
  People: token<import('./people/people-directory.js').PeopleDirectory>('People'),
  Diagnostics: token<import('./diagnostics/diagnostics.js').Diagnostics>('Diagnostics'),
  ReplayGuard: token<import('./storage/replay-guard.js').ReplayGuard>('ReplayGuard'),
  Fallbacks: token<import('./commands/fallbacks.js').FallbackHandlers>('Fallbacks'),
} as const;
