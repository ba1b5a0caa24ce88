import { parseArgs } from 'node:util';
import { ConfigError } from '../config/config-error.js';
import { loadConfig } from '../config/load-config.js';
import type { I18n } from '../i18n/i18n.js';
import { LocalMessenger } from '../messages/local-messenger.js';
import { Bot } from '../runtime/bot.js';
import { TOKENS } from '../tokens.js';
import { ConsoleTransport } from '../transport/console-transport.js';

/**
 * `dingops start`. Without DingTalk credentials the bot runs locally with a console
 * chat, so a newcomer sees it work in one command.
 */
export async function start(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { config: { type: 'string', short: 'c' } },
    allowPositionals: false,
  });
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig({ file: values.config });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 1;
    }
    throw err;
  }
  const { clientId, clientSecret } = config.core.dingtalk;
  if (clientId && clientSecret) {
    process.stderr.write(
      'DingTalk credentials are set, but this build has no DingTalk transport yet; unset them to run the local console.\n',
    );
    return 1;
  }
  const user = config.core.access.admins[0] ?? 'console';
  // A console chat needs a terminal; in a container or under a supervisor the bot runs
  // headless (HTTP endpoints only) until it is signalled.
  const interactive = process.stdin.isTTY === true;
  let resolveEnded: () => void = () => undefined;
  const ended = new Promise<void>((r) => {
    resolveEnded = r;
  });
  const bot = await Bot.create({
    config,
    messenger: (c) => {
      const m = new LocalMessenger(c.resolve(TOKENS.Renderer), { interactive: false, keep: 100 });
      if (interactive) m.onDelivery((d) => process.stdout.write(`\n${d.rendered.plain}\n\n`));
      return m;
    },
    transports: (c) =>
      interactive
        ? [
            new ConsoleTransport(
              { userId: user, nick: user },
              {
                input: process.stdin,
                output: process.stdout,
                banner: c.resolve<I18n>(TOKENS.I18n).t('console.banner', { user }),
                onEnd: () => resolveEnded(),
              },
            ),
          ]
        : [],
  });
  if (!interactive)
    bot.log.warn(
      'no DingTalk credentials and no terminal: running without a chat transport (set dingtalk.clientId and clientSecret)',
    );
  const stop = async (signal: string) => {
    await bot.stop(signal);
    resolveEnded();
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
  await bot.start();
  await ended;
  await bot.stop('console closed');
  return 0;
}
