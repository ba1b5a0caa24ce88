import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type RunningSimulator, type SimMessage, startSimulator } from '../../simulator/index.js';
import { productionEnv, productionNodeFlags } from '../helpers/production-flags.js';

export interface StreamBenchResult {
  name: string;
  messages: number;
  perSecond?: number;
  p50ms: number;
  p99ms: number;
  throttled: number;
  openApiCalls: number;
}

const GROUPS = 20;

/**
 * Through the real `dingtalk-stream` SDK and WebSocket on loopback: the simulator (this
 * process) pushes user messages; the bot (a separate process, as deployed) answers; the
 * time is from the push to the reply arriving at the simulator.
 */
export async function benchStream(root = resolve('.')): Promise<StreamBenchResult[]> {
  const sim = await benchSimulator();
  const dir = mkdtempSync(join(tmpdir(), 'dingops-stream-bench-'));
  writeFileSync(
    join(dir, 'bot.config.yaml'),
    `dingtalk:\n  clientId: bench\n  clientSecret: bench-secret\n  apiBase: ${sim.url}\n  oapiBase: ${sim.url}\nserver:\n  port: 0\nstorage:\n  url: sqlite:${join(dir, 'bot.db')}\nlocale: en\nlog:\n  level: warn\nplugins:\n  hello: {}\n`,
  );
  // The build (`npm run build`) with the container's node flags and environment: the bot as it ships.
  const bot = spawn(
    process.execPath,
    [
      ...productionNodeFlags(root),
      join(root, 'dist/core/cli/main.js'),
      'start',
      '--config',
      join(dir, 'bot.config.yaml'),
    ],
    { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, ...productionEnv(root) } },
  );
  try {
    await sim.client.until(() => sim.client.api.connections() > 0, 30_000, 'the bot to connect');
    const results: StreamBenchResult[] = [];
    for (const [name, text] of [
      ['ping', (_i: number) => 'ping'],
      ['hello <name> (argument, plugin, kv store)', (i: number) => `hello b${i}`],
    ] as const) {
      // Warmed up first (a bot runs for days: its steady state is what counts), then long
      // enough that a second of noise from elsewhere on the machine does not decide the figure.
      await chatLoad(sim, text, 2000, 200);
      results.push({
        name: `${name}: throughput`,
        ...(await measure(sim, () => chatLoad(sim, text, 10_000, 200))),
      });
      results.push({
        name: `${name}: steady 100 msg/s`,
        ...(await measure(sim, () => steady(sim, text, 100, 1000))),
      });
    }
    return results;
  } finally {
    bot.kill('SIGTERM');
    await new Promise((r) => bot.once('exit', r));
    await sim.stop();
  }
}

async function measure(
  sim: RunningSimulator,
  fn: () => Promise<{ latencies: number[]; elapsedMs: number; steady: boolean }>,
) {
  const callsBefore = sim.state.calls.length;
  const r = await fn();
  const calls = sim.state.calls.slice(callsBefore);
  const sorted = [...r.latencies].sort((a, b) => a - b);
  return {
    messages: sorted.length,
    perSecond: r.steady ? undefined : Math.round(sorted.length / (r.elapsedMs / 1000)),
    p50ms: sorted[Math.floor(sorted.length * 0.5)]!,
    p99ms: sorted[Math.floor(sorted.length * 0.99)]!,
    throttled: calls.filter((c) => c.code?.includes('QpsLimit')).length,
    openApiCalls: calls.filter((c) => c.path.startsWith('/v1.0/robot') || c.path.startsWith('/topapi'))
      .length,
  };
}

/** Pairs bot replies with requests: by expected content when given, else first come first served per group. */
function replyWaiter(sim: RunningSimulator) {
  const waiting = new Map<string, Array<{ expect?: string; resolve: (m: SimMessage) => void }>>();
  const onMessage = (m: SimMessage) => {
    if (m.sender !== 'bot') return;
    const q = waiting.get(m.conversation);
    if (!q) return;
    const i = q.findIndex((w) => !w.expect || m.content.includes(w.expect) || m.title?.includes(w.expect));
    if (i >= 0) q.splice(i, 1)[0]!.resolve(m);
  };
  sim.state.on('message', onMessage);
  return {
    wait: (conversation: string, expect?: string) =>
      new Promise<SimMessage>((resolve) => {
        const q = waiting.get(conversation) ?? [];
        q.push({ expect, resolve });
        waiting.set(conversation, q);
      }),
    close: () => sim.state.off('message', onMessage),
  };
}

async function send(
  sim: RunningSimulator,
  waiter: ReturnType<typeof replyWaiter>,
  i: number,
  text: string,
): Promise<number> {
  const group = `cid-bench-${i % GROUPS}`;
  const name = /^hello (\S+)/.exec(text)?.[1];
  const reply = waiter.wait(group, name ? `${name}!` : undefined);
  const t0 = performance.now();
  await sim.client.api.say({ conversation: group, sender: 'bob', text });
  await reply;
  return performance.now() - t0;
}

/** As fast as possible with `window` messages in flight. */
export async function chatLoad(
  sim: RunningSimulator,
  text: (i: number) => string,
  count: number,
  window: number,
) {
  const waiter = replyWaiter(sim);
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: window }, async () => {
      for (let i = next++; i < count; i = next++) latencies.push(await send(sim, waiter, i, text(i)));
    }),
  );
  waiter.close();
  return { latencies, elapsedMs: performance.now() - started, steady: false };
}

/** A steady rate: one message every 1000/rate ms. */
async function steady(sim: RunningSimulator, text: (i: number) => string, rate: number, count: number) {
  const waiter = replyWaiter(sim);
  const pending: Array<Promise<number>> = [];
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    pending.push(send(sim, waiter, i, text(i)));
  }
  const latencies = await Promise.all(pending);
  waiter.close();
  return { latencies, elapsedMs: performance.now() - started, steady: true };
}

/** The simulator the Stream benchmarks talk to: app `bench` (20 QPS), 20 groups `cid-bench-N`. */
export function benchSimulator(): Promise<RunningSimulator> {
  const users = ['alice', 'bob', 'carol'];
  return startSimulator({
    pingIntervalMs: 0,
    org: {
      corpId: 'dingbench',
      users: users.map((u) => ({ userId: u, name: u })),
      groups: Array.from({ length: GROUPS }, (_, i) => ({
        openConversationId: `cid-bench-${i}`,
        title: `bench-${i}`,
        members: users,
        coolAppInstalled: true,
      })),
      apps: [
        {
          clientId: 'bench',
          clientSecret: 'bench-secret',
          robotCode: 'bench',
          name: 'bench',
          edition: 'standard',
          qps: 20,
          monthlyQuota: 10_000_000,
          mode: 'stream',
          scopes: ['qyapi_robot_sendmsg'],
        },
      ],
    },
  });
}
