import { loadConfig } from '../../core/config/load-config.js';
import { composeDingTalk, streamTransport } from '../../core/dingtalk/dingtalk-stack.js';
import type { PluginDefinition } from '../../core/plugins/define-plugin.js';
import { Bot } from '../../core/runtime/bot.js';
import { type RunningSimulator, type SimulatorOptions, startSimulator } from '../../simulator/index.js';
import { dropTestStorage, testStorageUrl } from './storage.js';
import { LogCapture } from './test-bot.js';

export interface SimBot {
  sim: RunningSimulator;
  bot: Bot;
  logs: LogCapture;
  storageUrl: string;
  /** Starts another bot process-alike on the same store (restart after a crash). */
  restart(): Promise<Bot>;
  stop(): Promise<void>;
}

export interface SimBotOptions {
  yaml?: string;
  /** Extra lines under `dingtalk:` (indented by two spaces). */
  dingtalk?: string;
  plugins?: PluginDefinition<any>[];
  sim?: SimulatorOptions;
  env?: Record<string, string>;
  /** Reuse a running simulator. */
  simulator?: RunningSimulator;
}

/**
 * A bot wired to DingTalk exactly as in production (Stream transport through the real SDK,
 * OpenAPI client, outbox), pointed at an in-process simulator.
 */
export async function createSimBot(options: SimBotOptions = {}): Promise<SimBot> {
  const sim = options.simulator ?? (await startSimulator({ pingIntervalMs: 0, ...options.sim }));
  const storageUrl = testStorageUrl().replace(
    'sqlite::memory:',
    `sqlite:/tmp/dingops-simbot-${process.pid}-${Math.random().toString(36).slice(2)}.db`,
  );
  const logs = new LogCapture();
  const make = async () => {
    const config = loadConfig({
      text: `dingtalk:\n  clientId: dingops-demo\n  clientSecret: dingops-demo-secret\n  apiBase: ${sim.url}\n  oapiBase: ${sim.url}\n  cardTemplateId: dingops.default.schema\n${options.dingtalk ?? ''}access:\n  admins: [alice]\n  roles:\n    oncall: [bob]\n${options.yaml ?? ''}`,
      env: { DINGOPS_STORAGE_URL: storageUrl, DINGOPS_LOCALE: 'en', ...options.env },
    });
    const bot = await Bot.create({
      config,
      plugins: options.plugins,
      logDestination: logs,
      listen: false,
      defaultMetrics: false,
      // Short retry delays: the scenarios are the same, the waits are not worth the minutes.
      compose: (c) => composeDingTalk(c, { outbox: { retryBaseMs: 20, pollMs: 50 } }),
      transports: (c) => [streamTransport(c)],
    });
    await bot.start();
    await sim.client.until(() => sim.client.api.connections() > 0, 5000, 'the bot to connect');
    return bot;
  };
  const handle: SimBot = {
    sim,
    bot: await make(),
    logs,
    storageUrl,
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
