import { parseArgs } from 'node:util';
import { ConfigError } from '../config/config-error.js';
import { type LoadedConfig, loadConfig } from '../config/load-config.js';
import { callbackUrl, requirePublicUrl } from '../config/public-url.js';
import { LoggerToken } from '../observe/logger.js';
import { MetricsToken } from '../observe/metrics.js';
import type { StatusBoard } from '../observe/status.js';
import { StatusToken } from '../observe/status.js';
import { randomAlnum } from '../receive/http/callback-crypto.js';
import { Bot } from '../runtime/bot.js';
import { composeDingTalk } from '../runtime/wire-delivery.js';
import { httpTransport, streamTransport } from '../runtime/wire-receivers.js';
import { runChat } from './chat-client.js';
import { PromptSafeLog } from './prompt-safe-log.js';
import { sandboxLine } from './sandbox-line.js';

/** The embedded simulator's app (the documented default org). */
const DEMO_APP = {
  clientId: 'dingops-demo',
  clientSecret: 'dingops-demo-secret',
  templateId: 'dingops.default.schema',
};

/** How to run a dingops command where this process runs: a source checkout, or an installed package or image. */
export function cliCommand(args: string): string {
  return import.meta.url.endsWith('.ts') ? `npm run dingops -- ${args}` : `dingops ${args}`;
}

/**
 * `dingops start [--demo]`. With DingTalk credentials the bot connects to DingTalk. Without
 * them it refuses to start, naming the variables to set, unless `--demo` (what `npm start`
 * passes) asks for the embedded simulator: a container with a mistyped variable must not come
 * up healthy against a pretend DingTalk. In demo mode `status` and `/readyz` say so, and on a
 * terminal a chat with the bot opens.
 *
 * A fatal start-up error (config, plugins, storage, the port) is printed, what was opened is
 * closed, and the exit code is 1.
 */
export async function start(args: string[], err: NodeJS.WritableStream = process.stderr): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      config: { type: 'string', short: 'c' },
      'sim-port': { type: 'string' },
      demo: { type: 'boolean', default: false },
    },
    allowPositionals: false,
  });
  let config: LoadedConfig;
  try {
    config = loadConfig({ file: values.config });
  } catch (e) {
    if (e instanceof ConfigError) {
      err.write(`${e.message}\n`);
      return 1;
    }
    throw e;
  }
  const d = config.core.dingtalk;
  const demo = !d.clientId || !d.clientSecret;
  if (demo && !values.demo) {
    err.write(
      'No DingTalk credentials: set DINGTALK_CLIENT_ID and DINGTALK_CLIENT_SECRET (or dingtalk.clientId and dingtalk.clientSecret in the config).\n' +
        `To try dingops without DingTalk, run ${cliCommand('start --demo')} (the embedded simulator).\n`,
    );
    return 1;
  }
  let sim: Awaited<ReturnType<typeof import('../../simulator/index.js').startSimulator>> | undefined;
  let bot: Bot | undefined;
  const fail = async (e: unknown): Promise<number> => {
    err.write(`dingops could not start: ${e instanceof Error ? e.message : String(e)}\n`);
    // Close what was opened, so nothing keeps the process (or a port) alive.
    await bot?.stop('start-up failed').catch(() => undefined);
    await sim?.stop().catch(() => undefined);
    return 1;
  };
  const chatLog = demo && process.stdin.isTTY ? new PromptSafeLog() : undefined;
  try {
    if (demo) {
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
      if (d.mode === 'http') {
        // The demo app gets event keys of its own (the simulator plays the console that shows them).
        d.aesKey ??= randomAlnum(43);
        d.token ??= randomAlnum(16);
      }
    }
    const simUrl = sim?.url;
    bot = await Bot.create({
      config,
      // The chat shares this terminal: log lines must not draw over its prompt.
      logDestination: chatLog,
      compose: (c) => {
        composeDingTalk(c);
        if (simUrl)
          c.resolve<StatusBoard>(StatusToken).register('core', 'demo', () => ({
            name: { key: 'status.mode' },
            ok: true,
            critical: false,
            detail: { key: 'status.demo', vars: { url: simUrl } },
          }));
      },
      transports: (c) => [d.mode === 'http' ? httpTransport(c) : streamTransport(c)],
    });
    await bot.start();
  } catch (e) {
    return fail(e);
  }
  const running = bot;
  let stopping: Promise<void> | undefined;
  let stopped: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    stopped = resolve;
  });
  const stop = (reason: string) => {
    stopping ??= running
      .stop(reason)
      .then(() => sim?.stop())
      .then(() => stopped());
    return stopping;
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
  keepGoingOnEscapes(running);
  if (sim && d.mode === 'http') {
    // What an operator pastes into the developer console, done on the simulated one.
    const publicUrl = requirePublicUrl(config.core.server);
    const app = await sim.client.api.updateApp(DEMO_APP.clientId, {
      mode: 'http',
      callbackUrl: callbackUrl(publicUrl, d.callbacks.robot),
      eventUrl: callbackUrl(publicUrl, d.callbacks.events),
      aesKey: d.aesKey,
      token: d.token,
    });
    if (app.checkUrl && !app.checkUrl.ok)
      err.write(`The simulator could not verify the event URL: ${app.checkUrl.error}\n`);
  }
  if (sim) {
    const user = config.core.access.admins[0] ?? 'alice';
    if (process.stdin.isTTY) {
      process.stdout.write(
        `\nDemo mode: the bot runs against the embedded simulator at ${sim.url}.\n${sandboxLine(sim.url)}`,
      );
      await runChat({
        sim: sim.url,
        user,
        onReady: (prompt) => {
          if (chatLog) chatLog.redraw = prompt.redraw;
        },
      });
      await stop('chat closed');
      return 0;
    }
    process.stdout.write(
      `Demo mode: the bot runs against the embedded simulator at ${sim.url}. Talk to it with: ${cliCommand(`chat --sim ${sim.url}`)}\n${sandboxLine(sim.url)}`,
    );
  }
  await done;
  return 0;
}

/**
 * Anything that escapes the bot's own error handling (a rejected background promise, an error
 * event nobody listened to) is logged with its stack and counted in
 * `dingops_errors_total{where="unhandled"}`, and the bot goes on: its work is durable (inbox,
 * outbox), and one failed background step is no reason to drop every conversation.
 */
function keepGoingOnEscapes(bot: Bot): void {
  const log = bot.resolve(LoggerToken);
  const metrics = bot.resolve(MetricsToken);
  const escaped = (kind: string) => (err: unknown) => {
    metrics.errors.inc('unhandled');
    log.error({ err }, `${kind}: a failure escaped the bot's error handling; the bot goes on`);
  };
  process.on('unhandledRejection', escaped('unhandled rejection'));
  process.on('uncaughtException', escaped('uncaught exception'));
}
