import type { PluginDefinition } from '../../core/plugins/define-plugin.js';
import type { Bot } from '../../core/runtime/bot.js';
import { type RunningSimulator, type SimulatorOptions, startSimulator } from '../../simulator/index.js';
import { freePort, startBotOnSimulator } from '../../testing/index.js';
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
  plugins?: PluginDefinition[];
  sim?: SimulatorOptions;
  env?: Record<string, string>;
  /** Reuse a running simulator. */
  simulator?: RunningSimulator;
  /** `http`: URL callback mode (the simulator POSTs to the bot's HTTP routes) instead of Stream. */
  mode?: 'stream' | 'http';
}

export { TEST_AES_KEY, TEST_TOKEN } from '../../testing/index.js';

/**
 * A bot wired to DingTalk exactly as in production (Stream transport through the real SDK,
 * OpenAPI client, outbox), pointed at an in-process simulator: the test kit plugin authors
 * get (`dingops/testing`), on this project's test stores (SQLite file or a PostgreSQL schema).
 */
export async function createSimBot(options: SimBotOptions = {}): Promise<SimBot> {
  const sim = options.simulator ?? (await startSimulator({ pingIntervalMs: 0, ...options.sim }));
  const storageUrl = persistentTestStorageUrl();
  const logs = new LogCapture();
  const port = options.mode === 'http' ? await freePort() : 0;
  const make = () =>
    startBotOnSimulator(sim, {
      plugins: options.plugins,
      config: options.yaml,
      dingtalk: options.dingtalk,
      access: options.access,
      env: options.env,
      mode: options.mode,
      storageUrl,
      port,
      logs,
    });
  const handle: SimBot = {
    sim,
    bot: await make(),
    logs,
    storageUrl,
    publicUrl: `http://127.0.0.1:${port}`,
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
