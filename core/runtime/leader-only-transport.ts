import { Gauge } from 'prom-client';
import type { LeaderElection } from '../cluster/leader-election.js';
import type { Metrics } from '../observe/metrics.js';
import type { Transport, TransportState } from '../receive/transport.js';

/**
 * A transport only the leading replica runs (`dingtalk.stream.connections: leader`, for apps
 * where a newer Stream connection replaces an older one): the others stand by, ready, and the
 * next one connects within seconds of the leader dying.
 */
export class LeaderOnlyTransport implements Transport {
  constructor(
    private readonly inner: Transport,
    private readonly election: LeaderElection,
    metrics?: Metrics,
  ) {
    if (metrics)
      new Gauge({
        name: 'dingops_stream_leader',
        help: 'Whether this replica holds the Stream connection (dingtalk.stream.connections: leader)',
        registers: [metrics.registry],
        collect() {
          this.set(election.isLeader ? 1 : 0);
        },
      });
  }

  get name(): string {
    return this.inner.name;
  }

  async start(): Promise<void> {
    this.election.start(
      () => this.inner.start(),
      () => this.inner.stop(),
    );
  }

  async stop(): Promise<void> {
    await this.election.stop();
    await this.inner.stop();
  }

  state(): TransportState {
    return this.election.isLeader ? this.inner.state() : { status: 'standby' };
  }
}
