/**
 * dingops/testing: a bot wired as in production (Stream transport through the official
 * SDK, OpenAPI client, outbox, your plugins) against an in-process DingTalk simulator, for
 * plugin authors' tests. No test framework is assumed: it works under vitest, jest or
 * `node --test`.
 *
 *   const tb = await createTestBot({ plugins: [myPlugin], config: 'plugins:\n  mine: {}\n' });
 *   const reply = await tb.ask('mine hello', { group: 'ops' });
 *   await tb.click(reply, 'Wave back', { as: 'bob' });
 *   await tb.stop();
 */
import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { loadConfig } from '../core/config/load-config.js';
import type { PluginDefinition } from '../core/plugins/define-plugin.js';
import { Bot } from '../core/runtime/bot.js';
import { composeDingTalk } from '../core/runtime/wire-delivery.js';
import { httpTransport, streamTransport } from '../core/runtime/wire-receivers.js';
import {
  type CardView,
  type Faults,
  type RunningSimulator,
  type SimMessage,
  type SimulatorOptions,
  startSimulator,
} from '../simulator/index.js';

export type { CardView, Faults, SimMessage } from '../simulator/index.js';

/** The simulator's default org: app `dingops-demo`, users alice (admin), bob, carol, group `ops`. */
export const DEMO_APP = { clientId: 'dingops-demo', clientSecret: 'dingops-demo-secret' } as const;
/** Event subscription keys of the test app in HTTP mode. */
export const TEST_AES_KEY = 'TestAesKey0123456789abcdefghijklmnopqrstuvw';
export const TEST_TOKEN = 'testtoken42';

export interface TestBotOptions {
  /** Your plugins (each runs with its config from `config`, or its defaults). */
  plugins?: PluginDefinition[];
  /** YAML added to the bot's config (`plugins:`, `people:`, `access:` ...). */
  config?: string;
  /** Lines under `dingtalk:` (two-space indent), e.g. `  cardTemplateId: ...`. */
  dingtalk?: string;
  /** Lines under `access:` (two-space indent). Default: `admins: [alice]`, role `oncall: [bob]`. */
  access?: string;
  /** Environment for `${VAR}` in the config. */
  env?: Record<string, string>;
  /** `sqlite::memory:` by default; a file or `postgres://...` store to test restarts or replicas. */
  storageUrl?: string;
  /** The simulator's options (org, ping interval...), or a running one to share. */
  sim?: SimulatorOptions;
  simulator?: RunningSimulator;
  /** `http`: DingTalk's URL callback mode (the simulator POSTs to the bot) instead of Stream. */
  mode?: 'stream' | 'http';
  /** The bot's clock (ms): a `FakeClock` makes time-based logic testable. */
  clock?: () => number;
  /** Short outbox retry delays (the scenarios are the same, the waits are not worth the minutes). Default true. */
  fastRetries?: boolean;
}

export interface Reply extends SimMessage {}

export interface TestBot {
  /** The running bot (`resolve(XToken)` for internals is not part of the stable API). */
  bot: Bot;
  /** The simulator: `sim.client` (test API: messages, cards, calls, faults), `sim.url`. */
  sim: RunningSimulator;
  /** Every log line the bot wrote (JSON). */
  logs: string[];
  /** The store's URL (restart a bot on it with `restart`). */
  storageUrl: string;
  /** The bot's HTTP address (HTTP mode; else the server is not listening). */
  publicUrl: string;
  /**
   * Says `text` to the bot as a user (default alice), in a group by title (`{ group: 'ops' }`)
   * or a direct message, and resolves to the bot's next reply there.
   */
  ask(text: string, options?: { as?: string; group?: string; timeoutMs?: number }): Promise<Reply>;
  /** Says something without waiting (the bot is @mentioned in groups unless `atBot: false`). */
  say(text: string, options?: { as?: string; group?: string; atBot?: boolean }): Promise<{ msgId: string }>;
  /** Clicks a card's button (by its text, or raw params) as a user; resolves to the card as it is then. */
  click(
    reply: Pick<Reply, 'cardId' | 'buttons'>,
    button: string | Record<string, string>,
    options?: { as?: string },
  ): Promise<CardView & { responded: boolean }>;
  /** The bot's messages in a conversation (`ops`, `dm:alice`). */
  messages(conversation: string): Reply[];
  /** Waits until `check` gives something truthy (polling), for asynchronous effects. */
  until<T>(
    check: () => T | undefined | false | Promise<T | undefined | false>,
    timeoutMs?: number,
    what?: string,
  ): Promise<T>;
  /** DingTalk misbehaving: throttling, errors, latency (see `Faults`); `null` resets. */
  faults(faults: Partial<Faults> | null): Faults;
  /** Runs a plugin's schedule now, as if it were due (`<plugin>:<name>`). */
  runSchedule(id: string): Promise<void>;
  /** Stops this bot and starts another on the same store and simulator (a restart). */
  restart(): Promise<void>;
  /** Stops the bot, the simulator (unless shared) and removes a store it created. */
  stop(): Promise<void>;
}

/** A clock tests move by hand: give it as `clock` and call `advance`. */
export class FakeClock {
  constructor(private at = Date.now()) {}
  readonly now = (): number => this.at;
  advance(ms: number): void {
    this.at += ms;
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

class Lines extends Writable {
  constructor(private readonly into: string[]) {
    super();
  }
  override _write(chunk: Buffer, _enc: string, done: () => void): void {
    this.into.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    done();
  }
}

/**
 * Starts one bot on a simulator (store and options as given) and waits until DingTalk can
 * reach it: connected over Stream, or its URL callbacks registered and verified (HTTP).
 * `createTestBot` uses it; so does a test that needs a second bot on the same store (a crash
 * and restart, or a replica).
 */
export async function startBotOnSimulator(
  sim: RunningSimulator,
  options: TestBotOptions & {
    storageUrl: string;
    logs: Writable;
    port?: number;
    /** HTTP mode: the address DingTalk calls (a load balancer before several bots); default the bot's own. */
    publicUrl?: string;
  },
): Promise<Bot> {
  const http = options.mode === 'http';
  const publicUrl = options.publicUrl ?? `http://127.0.0.1:${options.port ?? 0}`;
  const modeYaml = http ? `  mode: http\n  aesKey: ${TEST_AES_KEY}\n  token: ${TEST_TOKEN}\n` : '';
  const serverYaml = http ? `server:\n  port: ${options.port}\n  publicUrl: ${publicUrl}\n` : '';
  const config = loadConfig({
    text: `dingtalk:\n  clientId: ${DEMO_APP.clientId}\n  clientSecret: ${DEMO_APP.clientSecret}\n  apiBase: ${sim.url}\n  oapiBase: ${sim.url}\n  cardTemplateId: dingops.default.schema\n${modeYaml}${options.dingtalk ?? ''}${serverYaml}access:\n  admins: [alice]\n  roles:\n    oncall: [bob]\n${options.access ?? ''}${options.config ?? ''}`,
    env: { DINGOPS_STORAGE_URL: options.storageUrl, DINGOPS_LOCALE: 'en', ...options.env },
  });
  const bot = await Bot.create({
    config,
    plugins: options.plugins,
    logDestination: options.logs,
    listen: http,
    defaultMetrics: false,
    clock: options.clock,
    compose: (c) =>
      composeDingTalk(c, options.fastRetries === false ? {} : { outbox: { retryBaseMs: 20, pollMs: 50 } }),
    transports: (c) => [http ? httpTransport(c) : streamTransport(c)],
  });
  await bot.start();
  if (http) {
    const app = await sim.client.api.updateApp(DEMO_APP.clientId, {
      mode: 'http',
      callbackUrl: `${publicUrl}/dingtalk/robot`,
      eventUrl: `${publicUrl}/dingtalk/events`,
      aesKey: TEST_AES_KEY,
      token: TEST_TOKEN,
    });
    if (!app.checkUrl?.ok) throw new Error(`check_url failed: ${app.checkUrl?.error}`);
  } else await sim.client.until(() => sim.client.api.connections() > 0, 5000, 'the bot to connect');
  return bot;
}

/** A free loopback port (the bot's public URL must be known before its config is loaded). */
export { freePort };

/** A bot on an in-process simulator, as in production. */
export async function createTestBot(options: TestBotOptions = {}): Promise<TestBot> {
  const sim = options.simulator ?? (await startSimulator({ pingIntervalMs: 0, ...options.sim }));
  const ownStore = !options.storageUrl;
  const dir = ownStore ? mkdtempSync(join(tmpdir(), 'dingops-testbot-')) : undefined;
  const storageUrl = options.storageUrl ?? `sqlite:${join(dir ?? tmpdir(), 'bot.db')}`;
  const logs: string[] = [];
  const port = options.mode === 'http' ? await freePort() : 0;
  const make = () => startBotOnSimulator(sim, { ...options, storageUrl, port, logs: new Lines(logs) });
  const client = sim.client;
  const tb: TestBot = {
    bot: await make(),
    sim,
    logs,
    storageUrl,
    publicUrl: `http://127.0.0.1:${port}`,
    ask: (text, o = {}) => client.as(o.as ?? 'alice').ask(text, { group: o.group, timeoutMs: o.timeoutMs }),
    say: (text, o = {}) => client.as(o.as ?? 'alice').say(text, { group: o.group, atBot: o.atBot }),
    click: async (reply, button, o = {}) => {
      const params =
        typeof button === 'string' ? reply.buttons.find((b) => b.text === button)?.params : button;
      if (!params) throw new Error(`no button '${String(button)}' on that card`);
      return client.as(o.as ?? 'alice').click(reply as Reply, params);
    },
    messages: (conversation) => client.botMessages(conversation),
    until: async (check, timeoutMs = 5000, what = 'condition') => {
      for (const deadline = Date.now() + timeoutMs; ; ) {
        const v = await check();
        if (v) return v;
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    faults: (f) => client.api.setFaults(f),
    runSchedule: (id) => tb.bot.runSchedule(id),
    restart: async () => {
      await tb.bot.stop('restart');
      tb.bot = await make();
    },
    stop: async () => {
      await tb.bot.stop('test').catch(() => undefined);
      if (!options.simulator) await sim.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
  return tb;
}
