import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { loadConfig } from '../../core/config/load-config.js';
import { composeDingTalk, httpTransport, streamTransport } from '../../core/dingtalk/dingtalk-stack.js';
import type { PluginDefinition } from '../../core/plugins/define-plugin.js';
import { Bot } from '../../core/runtime/bot.js';
import type { Transport } from '../../core/transport/transport.js';
import { type RunningSimulator, type SimulatorOptions, startSimulator } from '../../simulator/index.js';
import { dropTestStorage, persistentTestStorageUrl } from './storage.js';
import { LogCapture } from './test-bot.js';

export interface SimBot {
  sim: RunningSimulator;
  bot: Bot;
  logs: LogCapture;
  storageUrl: string;
  /** The bot's own base URL in HTTP mode. */
  publicUrl: string;
  /** Starts another bot process-alike on the same store (restart after a crash). */
  restart(): Promise<Bot>;
  stop(): Promise<void>;
}

export interface SimBotOptions {
  yaml?: string;
  /** Extra lines under `dingtalk:` (indented by two spaces). */
  dingtalk?: string;
  /** Extra lines under `access:` (indented by two spaces), e.g. `commands:` rules. */
  access?: string;
  plugins?: PluginDefinition<any>[];
  sim?: SimulatorOptions;
  env?: Record<string, string>;
  /** Reuse a running simulator. */
  simulator?: RunningSimulator;
  /** `http`: URL callback mode (the simulator POSTs to the bot's HTTP routes) instead of Stream. */
  mode?: 'stream' | 'http';
}

/** Event subscription keys of the test app in HTTP mode (any 43 letters and digits will do). */
export const TEST_AES_KEY = 'TestAesKey0123456789abcdefghijklmnopqrstuvw';
export const TEST_TOKEN = 'testtoken42';

/** A free loopback port: the bot's public URL must be known before its config is loaded. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * A bot wired to DingTalk exactly as in production (Stream transport through the real SDK,
 * OpenAPI client, outbox), pointed at an in-process simulator.
 */
export async function createSimBot(options: SimBotOptions = {}): Promise<SimBot> {
  const sim = options.simulator ?? (await startSimulator({ pingIntervalMs: 0, ...options.sim }));
  const storageUrl = persistentTestStorageUrl();
  const logs = new LogCapture();
  const http = options.mode === 'http';
  const port = http ? await freePort() : 0;
  const publicUrl = `http://127.0.0.1:${port}`;
  const modeYaml = http ? `  mode: http\n  aesKey: ${TEST_AES_KEY}\n  token: ${TEST_TOKEN}\n` : '';
  const serverYaml = http ? `server:\n  port: ${port}\n  publicUrl: ${publicUrl}\n` : '';
  const make = async () => {
    const config = loadConfig({
      text: `dingtalk:\n  clientId: dingops-demo\n  clientSecret: dingops-demo-secret\n  apiBase: ${sim.url}\n  oapiBase: ${sim.url}\n  cardTemplateId: dingops.default.schema\n${modeYaml}${options.dingtalk ?? ''}${serverYaml}access:\n  admins: [alice]\n  roles:\n    oncall: [bob]\n${options.access ?? ''}${options.yaml ?? ''}`,
      env: { DINGOPS_STORAGE_URL: storageUrl, DINGOPS_LOCALE: 'en', ...options.env },
    });
    let transport: Transport | undefined;
    const bot = await Bot.create({
      config,
      plugins: options.plugins,
      logDestination: logs,
      listen: http,
      defaultMetrics: false,
      compose: (c) => {
        // Short retry delays: the scenarios are the same, the waits are not worth the minutes.
        composeDingTalk(c, { outbox: { retryBaseMs: 20, pollMs: 50 } });
        transport = http ? httpTransport(c) : streamTransport(c);
      },
      transports: () => [transport!],
    });
    await bot.start();
    if (http) {
      const app = await sim.client.api.updateApp('dingops-demo', {
        mode: 'http',
        callbackUrl: `${publicUrl}/dingtalk/robot`,
        eventUrl: `${publicUrl}/dingtalk/events`,
        aesKey: TEST_AES_KEY,
        token: TEST_TOKEN,
      });
      if (!app.checkUrl?.ok) throw new Error(`check_url failed: ${app.checkUrl?.error}`);
    } else await sim.client.until(() => sim.client.api.connections() > 0, 5000, 'the bot to connect');
    return bot;
  };
  const handle: SimBot = {
    sim,
    bot: await make(),
    logs,
    storageUrl,
    publicUrl,
    restart: async () => {
      handle.bot = await make();
      return handle.bot;
    },
    stop: async () => {
      await handle.bot.stop('test').catch(() => undefined);
      if (!options.simulator) await sim.stop();
      await dropTestStorage(storageUrl);
    },
  };
  return handle;
}
