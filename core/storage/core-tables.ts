import type { Generated } from 'kysely';

/**
 * The core's tables as Kysely sees them (the columns `core-migrations.ts` creates). Times are
 * milliseconds since the epoch in `bigint` columns, read back as numbers on both dialects
 * (`database.ts` parses PostgreSQL's int8). Flags are integers 0/1: SQLite has no boolean.
 */
export interface CoreTables {
  plugin_kv: {
    plugin: string;
    key: string;
    /** JSON. */
    value: string;
    expires_at: number | null;
    updated_at: number;
  };
  audit_segment: {
    id: Generated<number>;
    first_at: number;
    last_at: number;
    entries: number;
    /** Space-separated actor ids, for finding segments without decompressing them. */
    actors: string;
    commands: string;
    /** Compressed JSON lines. */
    data: Uint8Array;
  };
  outbox: {
    id: Generated<number>;
    kind: string;
    conversation_key: string;
    /** JSON. */
    payload: string;
    /** OutboxStatus: `sending` marks a row a delivery attempt was under way for. */
    status: 'pending' | 'sending' | 'sent' | 'dead';
    attempts: Generated<number>;
    next_attempt_at: number;
    last_error: string | null;
    created_at: number;
    sent_at: number | null;
    card_id: string | null;
    /**
     * Unique when set: a send made again (a message handled again after a crash, a schedule
     * redone by another replica) with the same key is the row already queued.
     */
    dedupe_key: string | null;
  };
  card_instance: {
    card_id: string;
    interactive: number;
    /** JSON `CardTarget`. */
    destination: string;
    created_at: number;
  };
  inbound_seen: {
    id: string;
    kind: string;
    received_at: number;
    /** JSON, kept until handled. */
    payload: string | null;
    /** 0 waiting, 1 handled, 2 dead-lettered. */
    done: Generated<number>;
    attempts: Generated<number>;
    error: string | null;
    /** The replica that accepted it (PostgreSQL, several replicas); null from a previous version. */
    replica: string | null;
  };
  dingtalk_group: {
    open_conversation_id: string;
    title: string;
    installed: number;
    last_seen_at: number;
    updated_at: number;
  };
  group_binding: {
    title: string;
    open_conversation_id: string;
    bound_by: string;
    bound_at: number;
  };
  replay_guard: {
    key: string;
    fingerprint: string;
    expires_at: number;
  };
  dingops_replica: {
    /** `<host>-<pid>-<random>`: unique per process start. */
    id: string;
    host: string;
    pid: number;
    version: string;
    started_at: number;
    heartbeat_at: number;
  };
  api_call: {
    api: string;
    /** ms, the database's clock. */
    at: number;
  };
  api_usage: {
    /** `YYYY-MM` (UTC). */
    month: string;
    used: number;
    /** The thresholds already warned about this month, comma-joined (`0.8,0.95`). */
    warned: Generated<string>;
  };
  schedule_claim: {
    /** `<owner>:<name>:<due time ISO>` (node-cron's key for one run). */
    key: string;
    replica: string;
    /** Kept until then, so a late replica sees the run was taken. */
    expires_at: number;
  };
  outbox_lane: {
    conversation_key: string;
    /** The replica delivering this conversation now. */
    owner: string;
    lease_until: number;
    /** Raised by every claim: a row is marked sent only by the holder of this generation. */
    gen: number;
  };
}
