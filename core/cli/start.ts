import { parseArgs } from 'node:util';
import { ConfigError } from '../config/config-error.js';
import { type LoadedConfig, loadConfig } from '../config/load-config.js';
import { callbackUrl } from '../config/public-url.js';
import { randomAlnum } from '../dingtalk/callback-crypto.js';
import { composeDingTalk, httpTransport, streamTransport } from '../dingtalk/dingtalk-stack.js';
import { Bot } from '../runtime/bot.js';
import type { Transport } from '../transport/transport.js';
import { runChat } from './chat-client.js';

/** The embedded simulator's app (the documented default org). */
const DEMO_APP = {
  clientId: 'dingops-demo',
  clientSecret: 'dingops-demo-secret',
  templateId: 'dingops.default.schema',
};

/**
 * `dingops start`. With DingTalk credentials the bot connects to DingTalk. Without them it
 * starts the embedded simulator and, on a terminal, a chat with the bot, so a newcomer sees
 * it work in one command.
 */
export async function start(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { config: { type: 'string', short: 'c' }, 'sim-port': { type: 'string' } },
    allowPositionals: false,
  });
  let config: LoadedConfig;
  try {
    config = loadConfig({ file: values.config });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 1;
    }
    throw err;
  }
  const d = config.core.dingtalk;
  let sim: Awaited<ReturnType<typeof import('../../simulator/index.js').startSimulator>> | undefined;
  if (!d.clientId || !d.clientSecret) {
    const { startSimulator } = await import('../../simulator/index.js');
    const wanted = Number(values['sim-port'] ?? process.env.DINGOPS_SIM_PORT ?? 4010);
    sim = await startSimulator({ port: wanted }).catch(() => startSimulator({ port: 0 }));
    Object.assign(d, {
      clientId: DEMO_APP.clientId,
      clientSecret: DEMO_APP.clientSecret,
      robotCode: DEMO_APP.clientId,
      ownerKey: DEMO_APP.clientId,
      apiBase: sim.url,
      oapiBase: sim.url,
      cardTemplateId: d.cardTemplateId ?? DEMO_APP.templateId,
    });
  }
  if (sim && d.mode === 'http') {
    // The demo app gets event keys of its own (the simulator plays the console that shows them).
    d.aesKey ??= randomAlnum(43);
    d.token ??= randomAlnum(16);
  }
  let transport: Transport | undefined;
  const bot = await Bot.create({
    config,
    compose: (c) => {
      composeDingTalk(c);
      // HTTP routes must exist before the server starts, so the transport is built here.
      transport = d.mode === 'http' ? httpTransport(c) : streamTransport(c);
    },
    transports: () => [transport!],
  });
  let stopping: Promise<void> | undefined;
  let stopped: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    stopped = resolve;
  });
  const stop = (reason: string) => {
    stopping ??= bot
      .stop(reason)
      .then(() => sim?.stop())
      .then(() => stopped());
    return stopping;
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
  await bot.start();
  if (sim && d.mode === 'http') {
    // What an operator pastes into the developer console, done on the simulated one.
    const publicUrl = config.core.server.publicUrl!;
    const app = await sim.client.api.updateApp(DEMO_APP.clientId, {
      mode: 'http',
      callbackUrl: callbackUrl(publicUrl, d.callbacks.robot),
      eventUrl: callbackUrl(publicUrl, d.callbacks.events),
      aesKey: d.aesKey,
      token: d.token,
    });
    if (app.checkUrl && !app.checkUrl.ok)
      process.stderr.write(`The simulator could not verify the event URL: ${app.checkUrl.error}\n`);
  }
  if (sim) {
    const user = config.core.access.admins[0] ?? 'alice';
    if (process.stdin.isTTY) {
      process.stdout.write(
        `\nNo DingTalk credentials: the bot runs against the embedded simulator at ${sim.url}.\n`,
      );
      await runChat({ sim: sim.url, user });
      await stop('chat closed');
      return 0;
    }
    process.stdout.write(
      `No DingTalk credentials: the bot runs against the embedded simulator at ${sim.url}. Talk to it with: npm run dingops -- chat --sim ${sim.url}\n`,
    );
  }
  await done;
  return 0;
}
