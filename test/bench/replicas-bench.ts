import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import type { RunningSimulator, SimMessage } from '../../simulator/index.js';
import { benchSimulator } from './stream-bench.js';

export interface ReplicaThroughput {
  replicas: number;
  perSecond: number;
  p99ms: number;
}

export interface ReplicasBenchResult {
  throughput: ReplicaThroughput[];
  /** From SIGKILL of the replica that ran the last tick to the next tick, by another (ms). */
  failoverMs: number[];
}

const GROUPS = 20;

/**
 * Several replicas on one PostgreSQL (each its own process, as deployed), through the real
 * Stream SDK: ping throughput with 1, 2 and 3 replicas, and how long a per-second schedule
 * waits after the replica that ran it last is killed. Needs DINGOPS_TEST_PG_URL (PostgreSQL).
 */
export async function benchReplicas(pgUrl: string, root = resolve('.')): Promise<ReplicasBenchResult> {
  const throughput: ReplicaThroughput[] = [];
  for (const n of [1, 2, 3])
    throughput.push(await withCluster(pgUrl, root, n, (sim) => pingThroughput(sim, n)));
  const failoverMs = await withCluster(pgUrl, root, 3, (sim, bots) => scheduleFailover(sim, bots));
  return { throughput, failoverMs };
}

async function withCluster<T>(
  pgUrl: string,
  root: string,
  n: number,
  work: (sim: RunningSimulator, bots: ChildProcess[]) => Promise<T>,
): Promise<T> {
  const sim = await benchSimulator();
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  const url = new URL(pgUrl);
  url.searchParams.set('schema', schema);
  const dir = mkdtempSync(join(tmpdir(), 'dingops-replicas-bench-'));
  const config = join(dir, 'bot.config.yaml');
  writeFileSync(
    config,
    `dingtalk:\n  clientId: bench\n  clientSecret: bench-secret\n  apiBase: ${sim.url}\n  oapiBase: ${sim.url}\nserver:\n  port: 0\nstorage:\n  url: ${url}\nlocale: en\nlog:\n  level: warn\nplugins:\n  ticker:\n    from: ${join(root, '.bench/test/fixtures/plugins/ticker')}\n    group: cid-bench-0\n`,
  );
  const bots: ChildProcess[] = [];
  try {
    for (let i = 0; i < n; i++)
      bots.push(
        spawn(process.execPath, [join(root, '.bench/core/cli/main.js'), 'start', '--config', config], {
          cwd: dir,
          stdio: ['ignore', 'ignore', 'inherit'],
        }),
      );
    await sim.client.until(() => sim.client.api.connections() >= n, 60_000, `${n} replicas to connect`);
    return await work(sim, bots);
  } finally {
    for (const b of bots)
      if (b.exitCode === null && b.signalCode === null) {
        b.kill('SIGTERM');
        await new Promise((r) => b.once('exit', r));
      }
    await sim.stop();
    const admin = new pg.Client({ connectionString: pgUrl });
    await admin.connect();
    await admin.query(`drop schema if exists "${schema}" cascade`);
    await admin.end();
  }
}

async function pingThroughput(sim: RunningSimulator, replicas: number): Promise<ReplicaThroughput> {
  await pings(sim, 1000, 100);
  const { latencies, elapsedMs } = await pings(sim, 5000, 200);
  latencies.sort((a, b) => a - b);
  return {
    replicas,
    perSecond: Math.round(latencies.length / (elapsedMs / 1000)),
    p99ms: latencies[Math.floor(latencies.length * 0.99)] ?? 0,
  };
}

/** `count` pings over the groups with `window` in flight; each waits for its pong. */
async function pings(sim: RunningSimulator, count: number, window: number) {
  const waiting = new Map<string, Array<() => void>>();
  const onMessage = (m: SimMessage) => {
    if (m.sender === 'bot' && m.content.toLowerCase().includes('pong'))
      waiting.get(m.conversation)?.shift()?.();
  };
  sim.state.on('message', onMessage);
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: window }, async () => {
      for (let i = next++; i < count; i = next++) {
        const group = `cid-bench-${i % GROUPS}`;
        const pong = new Promise<void>((r) => {
          const q = waiting.get(group) ?? [];
          q.push(r);
          waiting.set(group, q);
        });
        const t0 = performance.now();
        await sim.client.api.say({ conversation: group, sender: 'bob', text: 'ping' });
        await pong;
        latencies.push(performance.now() - t0);
      }
    }),
  );
  sim.state.off('message', onMessage);
  return { latencies, elapsedMs: performance.now() - started };
}

/** Three rounds: kill the replica that ran the last tick, time the next tick from another. */
async function scheduleFailover(sim: RunningSimulator, bots: ChildProcess[]): Promise<number[]> {
  const ticks = () =>
    sim.client
      .botMessages('cid-bench-0')
      .map((m) => /^tick (\S+) (\d+)/.exec(m.content))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ replica: m[1] ?? '', at: Number(m[2]) }));
  const pidOf = (replica: string) => Number(/-(\d+)-[0-9a-f]+$/.exec(replica)?.[1]);
  const result: number[] = [];
  for (let round = 0; round < 3; round++) {
    const seen = ticks().length;
    await sim.client.until(() => ticks().length >= seen + 2 || undefined, 10_000, 'two more ticks');
    const last = ticks().at(-1);
    const victim = bots.find((b) => b.pid === pidOf(last?.replica ?? ''));
    if (!last || !victim) throw new Error(`no replica found for ${last?.replica}`);
    const killedAt = Date.now();
    victim.kill('SIGKILL');
    await new Promise((r) => victim.once('exit', r));
    const next = await sim.client.until(
      () => ticks().find((t) => t.at > killedAt && t.replica !== last.replica),
      15_000,
      'a tick from another replica',
    );
    result.push(next.at - killedAt);
    bots.splice(bots.indexOf(victim), 1);
    if (bots.length < 2) break;
  }
  return result;
}
