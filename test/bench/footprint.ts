import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '../../testing/index.js';
import { productionEnv, productionNodeFlags } from '../helpers/production-flags.js';
import { benchSimulator, chatLoad } from './stream-bench.js';

/** Where the bot's memory is, as the memory probe reports it (test/bench/memory-probe.mjs). */
export interface MemoryBreakdown {
  rssMb: number;
  anonMb: number;
  fileMb: number;
  files: Array<{ name: string; mb: number }>;
  heap: { usedMb: number; totalMb: number; spaces: Record<string, { residentMb: number; usedMb: number }> };
  externalMb: number;
  /** malloc's main heap ([heap]): SQLite's page cache, V8's compiler zones. */
  mallocMb: number;
  threads: number;
}

export interface FootprintResult {
  /** Process start to the first 200 from /readyz (Stream connected). */
  readyMs: number;
  /** Highest resident memory in the first 6 s (start-up allocations). */
  startupPeakMb: number;
  /** Median resident memory 25-40 s after start, once V8's memory reducer has run on the idle process. */
  idleMb: number;
  idle: MemoryBreakdown;
  /** Right after the chat load. */
  loaded: MemoryBreakdown;
  /** Highest resident memory under sustained chat, with `window` messages in flight. */
  loads: Array<{ window: number; peakMb: number; messages: number; perSecond: number; seconds: number }>;
  nodeFlags: string[];
}

/**
 * The bot as it ships, in its own process: the built bundle (`npm run build` first), started
 * with the container's node flags and the default configuration's plugins (core, hello, faq),
 * SQLite, connected over Stream to a simulator in this process (so only the bot is measured).
 * Start to ready, resident memory at start-up and idle (with where it goes), then sustained
 * chat (`ping` and `hello <name>` over 20 groups, 1 and then 50 in flight) and its peak.
 */
export async function measureFootprint(
  root = resolve('.'),
  loadSeconds = 15,
  nodeFlags = productionNodeFlags(root),
): Promise<FootprintResult> {
  const sim = await benchSimulator();
  const dir = mkdtempSync(join(tmpdir(), 'dingops-footprint-'));
  const port = await freePort();
  writeFileSync(
    join(dir, 'bot.config.yaml'),
    `dingtalk:\n  clientId: bench\n  clientSecret: bench-secret\n  apiBase: ${sim.url}\n  oapiBase: ${sim.url}\nserver:\n  port: ${port}\nstorage:\n  url: sqlite:${join(dir, 'db.sqlite')}\nlocale: en\nlog:\n  level: warn\nplugins:\n  hello: {}\n  faq: {}\n`,
  );
  const probe = join(dir, 'memory.json');
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [
      ...nodeFlags,
      '--import',
      join(root, 'test/bench/memory-probe.mjs'),
      join(root, 'dist/core/cli/main.js'),
      'start',
      '--config',
      join(dir, 'bot.config.yaml'),
    ],
    {
      cwd: dir,
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, ...productionEnv(root), MEMORY_PROBE_OUT: probe },
    },
  );
  const status = () => readFileSync(`/proc/${child.pid}/status`, 'utf8');
  const rss = () => Number(/VmRSS:\s+(\d+)/.exec(status())?.[1]) / 1024;
  const breakdown = async (): Promise<MemoryBreakdown> => {
    rmSync(probe, { force: true });
    child.kill('SIGUSR2');
    for (let i = 0; i < 100 && !existsSync(probe); i++) await new Promise((r) => setTimeout(r, 20));
    return JSON.parse(readFileSync(probe, 'utf8')) as MemoryBreakdown;
  };
  const alive = () => {
    if (child.exitCode !== null) throw new Error(`bot exited with ${child.exitCode}`);
  };
  try {
    let readyMs = 0;
    let startupPeakMb = 0;
    while (!readyMs) {
      alive();
      startupPeakMb = Math.max(startupPeakMb, rss());
      const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ok) readyMs = performance.now() - started;
      else await new Promise((r) => setTimeout(r, 5));
    }
    // Idle: sampled every 250 ms until 40 s after start.
    const idleSamples: number[] = [];
    for (let t = performance.now() - started; t < 40_000; t = performance.now() - started) {
      await new Promise((r) => setTimeout(r, 250));
      alive();
      const v = rss();
      if (t < 6_000) startupPeakMb = Math.max(startupPeakMb, v);
      if (t >= 25_000) idleSamples.push(v);
    }
    idleSamples.sort((a, b) => a - b);
    const idle = await breakdown();
    // Sustained chat: one message in flight (a busy team, back to back), then 50 (a burst);
    // the peak of each while it lasts.
    const load = async (window: number) => {
      let peak = 0;
      const sampler = setInterval(() => {
        if (child.exitCode === null) peak = Math.max(peak, rss());
      }, 100);
      const t0 = performance.now();
      let messages = 0;
      try {
        for (let round = 0; performance.now() - t0 < loadSeconds * 1000; round++) {
          const text = round % 2 ? (i: number) => `hello u${window}-${round}-${i}` : () => 'ping';
          messages += (await chatLoad(sim, text, window * 200, window)).latencies.length;
        }
      } finally {
        clearInterval(sampler);
      }
      const seconds = (performance.now() - t0) / 1000;
      return {
        window,
        peakMb: peak,
        messages,
        perSecond: Math.round(messages / seconds),
        seconds: Math.round(seconds),
      };
    };
    const loads = [await load(1), await load(50)];
    const loaded = await breakdown();
    return {
      readyMs: Math.round(readyMs),
      startupPeakMb,
      idleMb: idleSamples[Math.floor(idleSamples.length / 2)] ?? 0,
      idle,
      loaded,
      loads,
      nodeFlags,
    };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await sim.stop();
  }
}

/**
 * What each dependency costs when imported alone into a fresh node (resident and V8 heap
 * memory over a bare node), as the part of the memory breakdown the module graph explains.
 */
export function moduleCosts(root = resolve('.')): Array<{ module: string; rssMb: number; heapMb: number }> {
  const script = `
    const collect = () => { globalThis.gc(); globalThis.gc(); };
    const rss = () => Number(/VmRSS:\\s+(\\d+)/.exec(require('node:fs').readFileSync('/proc/self/status', 'utf8'))[1]) / 1024;
    collect();
    const before = { rss: rss(), heap: process.memoryUsage().heapUsed };
    (async () => {
      for (const m of process.argv.slice(2)) await import(m);
      collect();
      console.log(JSON.stringify({ rss: rss() - before.rss, heap: (process.memoryUsage().heapUsed - before.heap) / 1048576 }));
    })();`;
  const measure = (modules: string[]) =>
    JSON.parse(
      // argv[1] is a placeholder: the CLI runs itself when it is argv[1].
      execFileSync(process.execPath, ['--expose-gc', '-e', script, '--', 'modules', ...modules], {
        cwd: root,
        encoding: 'utf8',
      }),
    ) as { rss: number; heap: number };
  const groups: Array<[string, string[]]> = [
    [
      'dingtalk-stream (the SDK, with axios: the build loads axios only when the SDK calls it)',
      ['dingtalk-stream'],
    ],
    ['kysely', ['kysely']],
    ['zod', ['zod']],
    ['prom-client', ['prom-client']],
    ['tsyringe + reflect-metadata', ['reflect-metadata', 'tsyringe']],
    ['yaml', ['yaml']],
    ['pino', ['pino']],
    ['node-cron', ['node-cron']],
    ['better-sqlite3', ['better-sqlite3']],
    ['ws', ['ws']],
    ['minisearch', ['minisearch']],
    ['the whole bot (dist/core/cli/main.js, loaded, not started)', [join(root, 'dist/core/cli/main.js')]],
  ];
  return groups.map(([module, imports]) => {
    const r = measure(imports);
    return { module, rssMb: Math.round(r.rss * 10) / 10, heapMb: Math.round(r.heap * 10) / 10 };
  });
}
