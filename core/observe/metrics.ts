import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { token } from '../util/di-token.js';
import { FastCounter, FastHistogram } from './fast-metrics.js';

/**
 * Prometheus metrics of one bot instance (own registry, so several bots in one
 * process, as in tests, do not collide). Per-message metrics use the Map-based fast
 * counters; transports and plugins add their own metrics to `registry`.
 */
export class Metrics {
  readonly registry = new Registry();
  /** Labels: command, outcome. */
  readonly commands: FastCounter;
  /** Label: command. Seconds from parsed command to reply handed to delivery. */
  readonly commandSeconds: FastHistogram;
  /** Labels: action, outcome. */
  readonly actions: FastCounter;
  /** Label: where. */
  readonly errors: FastCounter;
  /** Labels: via, type. */
  readonly inbound: FastCounter;
  readonly outboxDepth: Gauge;
  /** Conversations whose delivery this replica holds (several replicas on PostgreSQL). */
  readonly outboxLanes: Gauge;
  /** Conversations taken from a replica that stopped without giving them up. */
  readonly outboxTakeovers: FastCounter;
  /** Labels: api, status. */
  readonly apiCalls: FastCounter;
  /** Label: kind. Warnings left out of the log by a WarnThrottle. */
  readonly logSuppressed: FastCounter;

  constructor(options: { defaultMetrics?: boolean } = {}) {
    const r = this.registry;
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: r, prefix: 'dingops_' });
    this.commands = new FastCounter('dingops_commands_total', 'Commands handled', ['command', 'outcome'], r);
    this.commandSeconds = new FastHistogram(
      'dingops_command_duration_seconds',
      'Time from a received command to its reply being handed to delivery',
      ['command'],
      r,
      [0.0001, 0.001, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
    );
    this.actions = new FastCounter(
      'dingops_card_actions_total',
      'Card button actions handled',
      ['action', 'outcome'],
      r,
    );
    this.errors = new FastCounter('dingops_errors_total', 'Errors by where they happened', ['where'], r);
    this.inbound = new FastCounter(
      'dingops_inbound_total',
      'Inbound messages, card actions and events',
      ['via', 'type'],
      r,
    );
    this.outboxDepth = new Gauge({
      name: 'dingops_outbox_depth',
      help: 'Messages waiting in the outbox',
      registers: [r],
    });
    this.outboxLanes = new Gauge({
      name: 'dingops_outbox_lanes_held',
      help: 'Conversations whose delivery this replica holds (several replicas)',
      registers: [r],
    });
    this.outboxTakeovers = new FastCounter(
      'dingops_outbox_takeovers_total',
      'Conversations taken over from a replica that stopped without giving them up',
      [],
      r,
    );
    this.apiCalls = new FastCounter(
      'dingops_api_calls_total',
      'DingTalk OpenAPI calls',
      ['api', 'status'],
      r,
    );
    this.logSuppressed = new FastCounter(
      'dingops_log_suppressed_total',
      'Repeated warnings left out of the log (at most 20 per kind a minute are written)',
      ['kind'],
      r,
    );
  }
}

/** The DI token of the Metrics. */
export const MetricsToken = token<Metrics>('Metrics');
