import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Prometheus metrics of one bot instance (own registry, so several bots in one
 * process, as in tests, do not collide). Transports and plugins add their own
 * metrics to `registry`.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly commands: Counter<'command' | 'outcome'>;
  readonly commandSeconds: Histogram<'command'>;
  readonly actions: Counter<'action' | 'outcome'>;
  readonly errors: Counter<'where'>;
  readonly inbound: Counter<'via' | 'type'>;
  readonly outboxDepth: Gauge;
  readonly apiCalls: Counter<'api' | 'status'>;

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics !== false)
      collectDefaultMetrics({ register: this.registry, prefix: 'dingops_' });
    const registers = [this.registry];
    this.commands = new Counter({
      name: 'dingops_commands_total',
      help: 'Commands handled',
      labelNames: ['command', 'outcome'],
      registers,
    });
    this.commandSeconds = new Histogram({
      name: 'dingops_command_duration_seconds',
      help: 'Time from a parsed command to its reply being handed to delivery',
      labelNames: ['command'],
      buckets: [0.0001, 0.001, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
      registers,
    });
    this.actions = new Counter({
      name: 'dingops_card_actions_total',
      help: 'Card button actions handled',
      labelNames: ['action', 'outcome'],
      registers,
    });
    this.errors = new Counter({
      name: 'dingops_errors_total',
      help: 'Errors by where they happened',
      labelNames: ['where'],
      registers,
    });
    this.inbound = new Counter({
      name: 'dingops_inbound_total',
      help: 'Inbound messages and events',
      labelNames: ['via', 'type'],
      registers,
    });
    this.outboxDepth = new Gauge({
      name: 'dingops_outbox_depth',
      help: 'Messages waiting in the outbox',
      registers,
    });
    this.apiCalls = new Counter({
      name: 'dingops_api_calls_total',
      help: 'DingTalk OpenAPI calls',
      labelNames: ['api', 'status'],
      registers,
    });
  }
}
