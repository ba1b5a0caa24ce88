import { Gauge } from 'prom-client';
import type { ReplicaRegistry } from '../cluster/replica-registry.js';
import type { I18n } from '../i18n/i18n.js';
import type { Metrics } from '../observe/metrics.js';
import type { StatusBoard } from '../observe/status.js';
import type { PluginHost } from '../plugins/plugin-host.js';
import { isReceiving, type Transport } from '../receive/transport.js';
import type { Database } from '../storage/database.js';

/** The store's line in `status`: it answers, how fast, on which engine. */
export function registerStoreStatus(status: StatusBoard, db: Database): void {
  status.register('core', 'store', async () => {
    const started = performance.now();
    await db.db.selectFrom('plugin_kv').select('plugin').limit(1).execute();
    return {
      name: { key: 'status.store' },
      ok: true,
      detail: {
        key: 'status.storeDetail',
        vars: { dialect: db.dialect, ms: Math.round(performance.now() - started) },
      },
      critical: true,
    };
  });
}

/** Which bot processes share the store, and this one's id (`status`, `/readyz`, `/metrics`). */
export function registerReplicaStatus(
  status: StatusBoard,
  metrics: Metrics,
  replicas: ReplicaRegistry,
  now: () => number,
): void {
  new Gauge({
    name: 'dingops_replicas_live',
    help: 'Bot processes sharing this store with a fresh heartbeat',
    registers: [metrics.registry],
    collect() {
      this.set(replicas.liveCount());
    },
  });
  new Gauge({
    name: 'dingops_replica_heartbeat_age_seconds',
    help: 'Seconds since each live replica last beat, as this one saw at its last heartbeat',
    labelNames: ['replica'],
    registers: [metrics.registry],
    collect() {
      this.reset();
      for (const r of replicas.live()) this.set({ replica: r.id }, (now() - r.heartbeatAt) / 1000);
    },
  });
  status.register('core', 'replicas', () => {
    const live = replicas.live();
    return {
      name: { key: 'status.replicas' },
      ok: true,
      detail: {
        key: 'status.replicasDetail',
        vars: {
          me: replicas.id,
          count: Math.max(1, live.length),
          list: live
            .map(
              (r) =>
                `${r.id}${r.id === replicas.id ? '*' : ''} (${Math.round((now() - r.heartbeatAt) / 1000)} s)`,
            )
            .join(', '),
        },
      },
    };
  });
}

/** The plugins' line in `status`: which run, which failed and why. */
export function registerPluginStatus(status: StatusBoard, host: PluginHost, i18n: I18n): void {
  status.register('core', 'plugins', () => {
    const records = [...host.records.values()];
    const failed = records.filter((r) => r.state === 'failed');
    return {
      name: { key: 'status.plugins' },
      ok: failed.length === 0,
      detail: records.length
        ? {
            key: 'status.pluginList',
            vars: {
              list: records
                .map((r) =>
                  r.state === 'failed'
                    ? i18n.t('status.pluginFailed', { name: r.name, error: r.error })
                    : r.name,
                )
                .join(', '),
            },
          }
        : { key: 'status.none' },
    };
  });
}

/** Each transport's line in `status` (critical: a bot that cannot receive is not ready) and its gauge. */
export function registerTransportStatus(
  status: StatusBoard,
  metrics: Metrics,
  transports: Transport[],
): void {
  new Gauge({
    name: 'dingops_transport_connected',
    help: 'Whether a transport is connected (1) or not (0)',
    labelNames: ['transport'],
    registers: [metrics.registry],
    collect() {
      for (const t of transports) this.set({ transport: t.name }, isReceiving(t.state()) ? 1 : 0);
    },
  });
  for (const transport of transports)
    status.register('core', `transport:${transport.name}`, () => {
      const s = transport.state();
      const state = { key: `status.transportState.${s.status}` };
      return {
        name: { key: 'status.transport', vars: { name: transport.name } },
        // A standby replica is healthy: it takes the connection over when the leader goes.
        ok: isReceiving(s) || s.status === 'standby',
        detail: {
          key: s.lastFrameAt ? 'status.transportDetailFrame' : 'status.transportDetail',
          vars: {
            state,
            at: s.lastFrameAt ? new Date(s.lastFrameAt).toISOString() : '',
            detail: s.detail ? `, ${s.detail}` : '',
          },
        },
        critical: true,
      };
    });
}
