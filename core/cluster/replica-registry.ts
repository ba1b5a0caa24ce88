import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { CoreTables } from '../storage/core-tables.js';
import type { Database } from '../storage/database.js';
import { token } from '../util/di-token.js';

export interface ReplicaInfo {
  id: string;
  host: string;
  pid: number;
  version: string;
  startedAt: number;
  heartbeatAt: number;
}

export interface ReplicaOptions {
  version: string;
  /** How often this replica says it is alive. */
  heartbeatMs?: number;
  /** A replica silent this long is taken for dead (its leases expire on their own). */
  staleMs?: number;
  clock?: () => number;
  /** Tests: who this process says it is. */
  host?: string;
  pid?: number;
}

/** A second bot process on one SQLite store: refused at start, before it touches anything. */
export class StoreInUseError extends Error {
  constructor(other: ReplicaInfo, ago: number) {
    super(
      `this SQLite store is in use by another dingops process (pid ${other.pid} on ${other.host}, replica ${other.id}, alive ${Math.round(ago / 1000)} s ago). SQLite takes one bot process: stop the other one, or use PostgreSQL (storage.url: postgres://...) to run several replicas.`,
    );
    this.name = 'StoreInUseError';
  }
}

/**
 * The bot processes sharing one store (the `dingops_replica` table): each joins with an id of
 * its own and a heartbeat; the live ones divide the app's QPS and are shown in `status`. On
 * SQLite a live one other than this process means a second bot on the same file: refused.
 */
export class ReplicaRegistry {
  readonly id: string;
  private readonly host: string;
  private readonly pid: number;
  private readonly startedAt: number;
  private readonly now: () => number;
  private readonly heartbeatMs: number;
  readonly staleMs: number;
  private timer: NodeJS.Timeout | undefined;
  private peers: ReplicaInfo[] = [];
  private readonly db: Kysely<CoreTables>;

  constructor(
    private readonly store: Database,
    private readonly log: Logger,
    private readonly options: ReplicaOptions,
  ) {
    this.db = store.db;
    this.now = options.clock ?? Date.now;
    this.host = options.host ?? hostname();
    this.pid = options.pid ?? process.pid;
    this.startedAt = this.now();
    this.heartbeatMs = options.heartbeatMs ?? 2_000;
    this.staleMs = options.staleMs ?? 10_000;
    this.id = `${this.host}-${this.pid}-${randomBytes(3).toString('hex')}`.slice(0, 100);
  }

  /** Registers this process; on SQLite, refuses when another live process uses the store. */
  async join(): Promise<void> {
    const others = await this.alive();
    for (const other of others) {
      // Bots embedded in this very process (tests restarting one) are not a second process.
      if (other.host === this.host && other.pid === this.pid) continue;
      // A process of this host that no longer exists crashed: its row is stale, not alive.
      if (other.host === this.host && !processExists(other.pid)) {
        await this.db.deleteFrom('dingops_replica').where('id', '=', other.id).execute();
        continue;
      }
      if (this.store.dialect === 'sqlite') throw new StoreInUseError(other, this.now() - other.heartbeatAt);
    }
    await this.db.insertInto('dingops_replica').values(this.row(this.now())).execute();
    await this.refresh();
    this.timer = setInterval(() => void this.beat(), this.heartbeatMs);
    this.timer.unref();
  }

  /** Leaves the cluster (an orderly stop): the others see one replica fewer at once. */
  async leave(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.db
      .deleteFrom('dingops_replica')
      .where('id', '=', this.id)
      .execute()
      .catch(() => undefined);
  }

  /** The live replicas, this one included, as of the last heartbeat. */
  live(): ReplicaInfo[] {
    return this.peers;
  }

  /** Whether a replica beat recently, read from the store (a replica that just joined included). */
  async isAliveNow(id: string): Promise<boolean> {
    if (id === this.id) return true;
    const row = await this.db
      .selectFrom('dingops_replica')
      .select('heartbeat_at')
      .where('id', '=', id)
      .executeTakeFirst();
    return row !== undefined && Number(row.heartbeat_at) > this.now() - this.staleMs;
  }

  liveCount(): number {
    return Math.max(1, this.peers.length);
  }

  private async beat(): Promise<void> {
    try {
      const now = this.now();
      const r = await this.db
        .updateTable('dingops_replica')
        .set({ heartbeat_at: now })
        .where('id', '=', this.id)
        .executeTakeFirst();
      // Removed as stale (a long pause): come back under the same id.
      if (Number(r.numUpdatedRows) === 0)
        await this.db.insertInto('dingops_replica').values(this.row(now)).execute();
      // Rows of replicas dead for a while are removed by whoever notices.
      await this.db
        .deleteFrom('dingops_replica')
        .where('heartbeat_at', '<', now - 6 * this.staleMs)
        .execute();
      await this.refresh();
    } catch (err) {
      this.log.warn({ err }, 'replica heartbeat failed');
    }
  }

  /** This replica's row, as of `now`. */
  private row(now: number): CoreTables['dingops_replica'] {
    return {
      id: this.id,
      host: this.host,
      pid: this.pid,
      version: this.options.version,
      started_at: this.startedAt,
      heartbeat_at: now,
    };
  }

  private async refresh(): Promise<void> {
    const rows = await this.db
      .selectFrom('dingops_replica')
      .selectAll()
      .where('heartbeat_at', '>', this.now() - this.staleMs)
      .orderBy('started_at')
      .execute();
    this.peers = rows.map(toInfo);
  }

  private async alive(): Promise<ReplicaInfo[]> {
    const rows = await this.db
      .selectFrom('dingops_replica')
      .selectAll()
      .where('heartbeat_at', '>', this.now() - this.staleMs)
      .execute();
    return rows.map(toInfo);
  }
}

function toInfo(r: CoreTables['dingops_replica']): ReplicaInfo {
  return {
    id: r.id,
    host: r.host,
    pid: Number(r.pid),
    version: r.version,
    startedAt: Number(r.started_at),
    heartbeatAt: Number(r.heartbeat_at),
  };
}

/** Whether a process with this pid runs on this host (signal 0 only checks). */
function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, under another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The DI token of the ReplicaRegistry. */
export const ReplicasToken = token<ReplicaRegistry>('Replicas');
