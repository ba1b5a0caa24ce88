import { benchAlertsIngest, benchAlertsStorm, benchSingleAlert, median } from './alerts-bench.js';
import { measureFootprint } from './footprint.js';
import { footprintRows, memoryBreakdown } from './footprint-report.js';
import { benchPipeline } from './pipeline-bench.js';
import { benchReplicas } from './replicas-bench.js';
import { benchSandbox } from './sandbox-bench.js';
import { benchStream } from './stream-bench.js';

/**
 * `npm run bench`: performance targets live here, never in timed tests. Prints a table;
 * the README keeps the latest figures.
 */
async function main() {
  const rows: Array<[string, string, string]> = [];
  const pipeline = await benchPipeline(Number(process.env.BENCH_MESSAGES ?? 200_000));
  for (const r of pipeline) {
    rows.push([
      `in-process pipeline: ${r.name}`,
      `${r.perSecond.toLocaleString('en-US')} msg/s`,
      `p50 ${r.p50us.toFixed(1)} µs, p99 ${r.p99us.toFixed(1)} µs (target ≥175,000 msg/s, p99 ≤20 µs)`,
    ]);
  }
  for (const r of await benchStream()) {
    const rate = r.perSecond ? `${r.perSecond.toLocaleString('en-US')} msg/s` : 'steady 100 msg/s';
    const target = r.perSecond ? 'target ≥2,000 msg/s' : 'target p99 < 10 ms';
    rows.push([
      `Stream (SDK + WebSocket): ${r.name}`,
      rate,
      `p50 ${r.p50ms.toFixed(2)} ms, p99 ${r.p99ms.toFixed(2)} ms, ${r.throttled} throttled, ${r.openApiCalls} OpenAPI calls (${target})`,
    ]);
  }
  const pgUrl = process.env.DINGOPS_TEST_PG_URL;
  if (pgUrl) {
    const replicas = await benchReplicas(pgUrl);
    const one = replicas.throughput[0]?.perSecond ?? 1;
    for (const r of replicas.throughput)
      rows.push([
        `Stream ping, ${r.replicas} replica(s) on PostgreSQL`,
        `${r.perSecond.toLocaleString('en-US')} msg/s`,
        `${(r.perSecond / one).toFixed(2)}× one replica; p99 ${r.p99ms.toFixed(1)} ms (every replica, PostgreSQL, simulator and load on this machine)`,
      ]);
    rows.push([
      'schedule failover after SIGKILL (3 replicas, a 1 s cron)',
      `${Math.max(...replicas.failoverMs)} ms worst`,
      `each round: ${replicas.failoverMs.join(', ')} ms from the kill to the next run by another replica (target ≤ 5,000 ms)`,
    ]);
  } else
    rows.push(['replicas on PostgreSQL', 'skipped', 'set DINGOPS_TEST_PG_URL (bash .ci/start-postgres.sh)']);
  const single = await benchSingleAlert();
  const ratio = median(single.ratios);
  rows.push([
    'alerts ingest (HTTP, committed to SQLite): 1 alert per payload',
    `${Math.round(median(single.bot)).toLocaleString('en-US')} alerts/s`,
    `${Math.round(100 * ratio)}% of a bare node:http server's ${Math.round(median(single.bare)).toLocaleString('en-US')} req/s with the same client (median of ${single.ratios.length} alternating rounds of ${single.requestsPerRound.toLocaleString('en-US')} requests; rounds ${single.ratios.map((r) => `${Math.round(100 * r)}%`).join(', ')}; bot ${single.bot.map((b) => b.toLocaleString('en-US')).join(', ')} alerts/s; reference ${single.bare.map((b) => b.toLocaleString('en-US')).join(', ')} req/s), 8 in flight, p99 ${single.p99ms.toFixed(1)} ms (target ≥30%)`,
  ]);
  for (const r of await benchAlertsIngest())
    rows.push([
      `alerts ingest (HTTP, committed to SQLite): ${r.name}`,
      `${r.alertsPerSecond.toLocaleString('en-US')} alerts/s`,
      `${r.requests} requests, 8 in flight, p99 ${r.p99ms.toFixed(1)} ms (target ≥5,000 alerts/s with 100-alert payloads)`,
    ]);
  const storm = await benchAlertsStorm();
  rows.push([
    `alert storm: ${storm.alerts.toLocaleString('en-US')} alerts, 200 services, ${storm.groups} groups`,
    `${storm.notificationCalls} notification calls`,
    `sent in ${storm.seconds.toFixed(1)} s; ${storm.incidents} incidents; ${storm.apiCalls} DingTalk calls, ${storm.throttled} throttled; at most ${storm.maxCallsPerGroup} message(s) per group; alert-to-notified p50 ${(storm.p50ms / 1000).toFixed(2)} s, p99 ${(storm.p99ms / 1000).toFixed(2)} s with group_wait ${storm.groupWaitMs / 1000} s (targets: 0 throttled, ≤1 call per group per window plus updates, p99 ≤ group_wait + 1 s)`,
  ]);
  const sandbox = await benchSandbox();
  if (sandbox) {
    rows.push([
      'sandbox page: open a conversation of 1,000 messages',
      `${Math.round(sandbox.openMs)} ms`,
      `click to the newest drawn (the last 100); "Show earlier messages" ${Math.round(sandbox.earlierMs)} ms (target ≤ 500 ms each)`,
    ]);
    rows.push([
      'sandbox page: 1,000 messages arriving live',
      `${Math.round(sandbox.floodMs)} ms`,
      `until the last is drawn; the page's longest task meanwhile ${Math.round(sandbox.longestTaskMs)} ms (target ≤ 100 ms: it stays responsive)`,
    ]);
    rows.push([
      'sandbox page: say ping, see pong',
      `p50 ${Math.round(sandbox.roundTrip.p50ms)} ms`,
      `p99 ${Math.round(sandbox.roundTrip.p99ms)} ms over ${sandbox.roundTrip.samples}, composer to the bot's answer drawn, with 2,000 messages in the conversation (target p99 ≤ 250 ms)`,
    ]);
  } else rows.push(['sandbox page', 'skipped', 'needs Chromium (apt install chromium)']);
  const fp = await measureFootprint();
  rows.push(...footprintRows(fp));
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  console.log(`\n${'benchmark'.padEnd(w0)} | ${'result'.padEnd(w1)} | detail`);
  console.log(`${'-'.repeat(w0)}-|-${'-'.repeat(w1)}-|-------`);
  for (const [a, b, c] of rows) console.log(`${a.padEnd(w0)} | ${b.padEnd(w1)} | ${c}`);
  console.log(`\n${memoryBreakdown(fp)}`);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
