import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../../core/config/load-config.js';
import { Bot } from '../../core/runtime/bot.js';
import { composeDingTalk } from '../../core/runtime/wire-delivery.js';
import { streamTransport } from '../../core/runtime/wire-receivers.js';
import alerts from '../../plugins/alerts/index.js';
import { startSimulator } from '../../simulator/index.js';
import { DEFAULT_ORG } from '../../simulator/org/default-org.js';
import { LogCapture } from '../helpers/test-bot.js';

export interface AlertsIngestResult {
  name: string;
  alertsPerSecond: number;
  requests: number;
  p99ms: number;
}

export interface AlertsStormResult {
  alerts: number;
  incidents: number;
  groups: number;
  seconds: number;
  apiCalls: number;
  throttled: number;
  notificationCalls: number;
  maxCallsPerGroup: number;
  p50ms: number;
  p99ms: number;
  groupWaitMs: number;
}

const TOKEN = 'bench-token-0123456789abcdef';
const agent = new Agent({ keepAlive: true, maxSockets: 16 });

function post(url: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${TOKEN}`,
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function payload(n: number, service: string, seq: number) {
  return JSON.stringify({
    version: '4',
    groupKey: `{}:{service="${service}"}`,
    status: 'firing',
    receiver: 'dingops',
    groupLabels: { service },
    commonLabels: {},
    commonAnnotations: {},
    externalURL: 'http://alertmanager:9093',
    alerts: Array.from({ length: n }, (_, i) => ({
      status: 'firing',
      labels: { alertname: 'HighErrorRate', service, instance: `i-${seq}-${i}`, severity: 'critical' },
      annotations: { summary: `error rate above 5% on ${service}` },
      startsAt: new Date().toISOString(),
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: 'http://prometheus:9090/graph',
      fingerprint: `${service}-${seq}-${i}`,
    })),
  });
}

async function alertsBot(yaml: string, dingtalk?: { url: string }) {
  const file = `/tmp/dingops-alerts-bench-${randomUUID()}.db`;
  const config = loadConfig({
    text: `${dingtalk ? `dingtalk:\n  clientId: dingops-demo\n  clientSecret: dingops-demo-secret\n  apiBase: ${dingtalk.url}\n  oapiBase: ${dingtalk.url}\n` : ''}server:\n  port: 0\nlog:\n  level: warn\nplugins:\n  alerts:\n    sources:\n      alertmanager: { token: ${TOKEN} }\n${yaml}`,
    env: { DINGOPS_STORAGE_URL: `sqlite:${file}` },
  });
  const bot = await Bot.create({
    config,
    plugins: [alerts],
    defaultMetrics: false,
    logDestination: new LogCapture(),
    ...(dingtalk ? { compose: (c) => composeDingTalk(c), transports: (c) => [streamTransport(c)] } : {}),
  });
  await bot.start();
  return {
    bot,
    url: bot.http.url!,
    stop: async () => {
      await bot.stop('bench');
      for (const suffix of ['', '-wal', '-shm']) await rm(`${file}${suffix}`, { force: true });
    },
  };
}

/** Alertmanager payloads of 100 alerts through the HTTP endpoint, each committed to SQLite before the 200. */
export async function benchAlertsIngest(
  sizes: ReadonlyArray<readonly [alertsPerPayload: number, requests: number]> = [[100, 400]],
): Promise<AlertsIngestResult[]> {
  const { url, stop } = await alertsBot('    defaultRoute: { groups: [] }\n');
  const results: AlertsIngestResult[] = [];
  try {
    for (const [size, requests] of sizes) {
      const bodies = Array.from({ length: requests }, (_, i) =>
        payload(size, `svc-${i % 50}`, i + size * 100_000),
      );
      await drive(
        `${url}/alerts/alertmanager`,
        Array.from({ length: 500 }, (_, i) => payload(size, 'warm', i + size * 1_000_000)),
      );
      const run = await drive(`${url}/alerts/alertmanager`, bodies);
      results.push({
        name: `${size} alert${size > 1 ? 's' : ''} per payload`,
        alertsPerSecond: Math.round((requests * size) / run.seconds),
        requests,
        p99ms: run.p99ms,
      });
    }
  } finally {
    await stop();
  }
  return results;
}

export interface SingleAlertResult {
  /** The bot's rate in each round, alerts (= requests) per second. */
  bot: number[];
  /** The reference's rate before the first round and after each, requests per second. */
  bare: number[];
  /** Each bot round against the mean of the reference runs on either side of it. */
  ratios: number[];
  p99ms: number;
  requestsPerRound: number;
}

/**
 * One-alert Alertmanager payloads (what Alertmanager and Grafana send, one request per
 * group) against the reference: a hello-world `node:http` server in this process, answering
 * 200 once it has read the body, sent the same payloads by the same client (8 in flight).
 * What is left between the two is the bot's own cost per request.
 *
 * The two take turns, reference first and last, so each bot round is compared with the
 * reference just before and after it. This 2-core machine's speed drifts by half within
 * seconds; one reference run before and one after a long bot run put that drift into the
 * ratio (21% to 45% of the same build).
 */
export async function benchSingleAlert(rounds = 7, requestsPerRound = 2_000): Promise<SingleAlertResult> {
  const { url, stop } = await alertsBot('    defaultRoute: { groups: [] }\n');
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"status":"ok"}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const bareUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const botUrl = `${url}/alerts/alertmanager`;
  let seq = 0;
  const bodies = (service: (i: number) => string) =>
    Array.from({ length: requestsPerRound }, (_, i) => payload(1, service(i), seq++));
  // Between runs: the bot's background work (the checkpoint thread copying its log) ends
  // before the next run, whichever it is.
  const settle = () => new Promise((r) => setTimeout(r, 300));
  const rate = (run: { seconds: number }) => Math.round(requestsPerRound / run.seconds);
  try {
    // Warmed up alike: 500 requests each.
    await drive(bareUrl, bodies(() => 'warm').slice(0, 500));
    await drive(botUrl, bodies(() => 'warm').slice(0, 500));
    await settle();
    const run = (url: string) =>
      drive(
        url,
        bodies((i) => `svc-${i % 50}`),
      );
    const bare = [rate(await run(bareUrl))];
    const bot: number[] = [];
    const latencies: number[] = [];
    for (let r = 0; r < rounds; r++) {
      await settle();
      const round = await run(botUrl);
      bot.push(rate(round));
      latencies.push(round.p99ms);
      await settle();
      bare.push(rate(await run(bareUrl)));
    }
    return {
      bot,
      bare,
      ratios: bot.map((b, i) => b / (((bare[i] ?? 0) + (bare[i + 1] ?? 0)) / 2)),
      p99ms: median(latencies),
      requestsPerRound,
    };
  } finally {
    await new Promise((resolve) => server.close(resolve));
    await stop();
  }
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** Posts every body, 8 in flight; every answer must be 200. */
async function drive(url: string, bodies: string[]): Promise<{ seconds: number; p99ms: number }> {
  const latencies: number[] = [];
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let i = next++; i < bodies.length; i = next++) {
        const t0 = performance.now();
        const status = await post(url, bodies[i] as string);
        if (status !== 200) throw new Error(`${url} answered ${status}`);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return { seconds, p99ms: latencies[Math.floor(latencies.length * 0.99)] ?? 0 };
}

/**
 * 10,000 alerts across 200 services routed to 20 groups, sent within one minute (here as
 * fast as the endpoint takes them), through a real bot on the simulator: DingTalk calls,
 * throttled calls, and the time from an alert's arrival to its notification reaching the
 * simulator.
 */
export async function benchAlertsStorm(): Promise<AlertsStormResult> {
  const GROUPS = 20;
  const SERVICES = 200;
  const ALERTS = 10_000;
  const groupWaitMs = 5_000;
  const users = ['alice', 'bob'];
  const sim = await startSimulator({
    pingIntervalMs: 0,
    org: {
      corpId: 'dingbench',
      users: users.map((u) => ({ userId: u, name: u })),
      groups: Array.from({ length: GROUPS }, (_, g) => ({
        openConversationId: `cid-team-${g}`,
        title: `team-${g}`,
        members: users,
        coolAppInstalled: true,
      })),
      // The default org's app; a quota the storm cannot exhaust.
      apps: [{ ...DEFAULT_ORG.apps[0]!, monthlyQuota: 1_000_000 }],
      cardTemplates: [],
      sceneGroupTemplates: [],
    },
  });
  // Service n belongs to team n % 20: one route per team.
  const routes = Array.from(
    { length: GROUPS },
    (_, g) =>
      `      - match: ['service=~svc-(${Array.from({ length: SERVICES / GROUPS }, (_, k) => k * GROUPS + g).join('|')})']\n        groups: [cid-team-${g}]\n`,
  ).join('');
  const { bot, url, stop } = await alertsBot(
    `    grouping:\n      groupWait: ${groupWaitMs}ms\n      groupInterval: 30s\n    storm:\n      alertsPerMinute: 1000000\n    routes:\n${routes}`,
    { url: sim.url },
  );
  await sim.client.until(() => sim.client.api.connections() > 0, 10_000, 'the bot to connect');
  const callsBefore = sim.state.calls.length;
  const firstSeen = new Map<string, number>();
  const notifiedAt = new Map<string, number>();
  sim.state.on('message', (m: { sender: string; conversation: string; at: number; content: string }) => {
    if (m.sender !== 'bot') return;
    for (const svc of m.content.match(/svc-\d+/g) ?? [])
      if (!notifiedAt.has(svc)) notifiedAt.set(svc, performance.now());
  });
  const perPayload = 50;
  const start = performance.now();
  let next = 0;
  const payloads = ALERTS / perPayload;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let i = next++; i < payloads; i = next++) {
        const service = `svc-${i % SERVICES}`;
        if (!firstSeen.has(service)) firstSeen.set(service, performance.now());
        const status = await post(`${url}/alerts/alertmanager`, payload(perPayload, service, i));
        if (status !== 200) throw new Error(`ingest answered ${status}`);
      }
    }),
  );
  const sentSeconds = (performance.now() - start) / 1000;
  await sim.client.until(
    () => notifiedAt.size >= SERVICES,
    groupWaitMs + 30_000,
    'every service to be notified',
  );
  await new Promise((r) => setTimeout(r, 1000));
  const calls = sim.state.calls.slice(callsBefore);
  const sends = calls.filter(
    (c) =>
      c.path.includes('/robot/') || c.path.includes('createAndDeliver') || c.path.includes('sendBySession'),
  );
  const delays = [...firstSeen].map(([svc, t]) => notifiedAt.get(svc)! - t).sort((a, b) => a - b);
  const perGroup = new Map<string, number>();
  for (const m of sim.state.messages.filter((x) => x.sender === 'bot'))
    perGroup.set(m.conversation, (perGroup.get(m.conversation) ?? 0) + 1);
  const incidents = Number(
    (
      await bot
        .resolve<any>(Symbol.for('dingops.Database'))
        .db.selectFrom('alerts_incident')
        .select((eb: any) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );
  await stop();
  await sim.stop();
  return {
    alerts: ALERTS,
    incidents,
    groups: GROUPS,
    seconds: sentSeconds,
    apiCalls: calls.length,
    throttled: calls.filter((c) => c.code?.includes('QpsLimit')).length,
    notificationCalls: sends.length,
    maxCallsPerGroup: Math.max(...perGroup.values()),
    p50ms: delays[Math.floor(delays.length * 0.5)]!,
    p99ms: delays[Math.floor(delays.length * 0.99)]!,
    groupWaitMs,
  };
}
