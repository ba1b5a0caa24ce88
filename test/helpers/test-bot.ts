import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { loadConfig } from '../../core/config/load-config.js';
import type { LocalDelivery, LocalMessenger } from '../../core/deliver/local-messenger.js';
import { MessengerToken } from '../../core/deliver/messenger.js';
import type { CardAction, InboundMessage } from '../../core/messages/inbound.js';
import type { PluginDefinition } from '../../core/plugins/define-plugin.js';
import { Bot, type BotOptions } from '../../core/runtime/bot.js';
import { dropTestStorage, testStorageUrl } from './storage.js';

/** Collects log lines so tests can assert on them (e.g. that secrets are redacted). */
export class LogCapture extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    cb();
  }
  get text(): string {
    return this.lines.join('\n');
  }
}

export interface TestBotOptions {
  yaml?: string;
  /** A config file instead of `yaml` (relative plugin paths resolve against its folder). */
  file?: string;
  env?: Record<string, string>;
  plugins?: PluginDefinition[];
  storageUrl?: string;
  clock?: () => number;
  keepStorage?: boolean;
  bot?: Partial<BotOptions>;
}

export interface TestBot {
  bot: Bot;
  messenger: LocalMessenger;
  logs: LogCapture;
  storageUrl: string;
  /** Sends a message and returns what the bot replied to it. */
  say(
    text: string,
    from?: { user?: string; nick?: string; group?: string; mentions?: InboundMessage['mentions'] },
  ): Promise<LocalDelivery[]>;
  /** Plain text of the replies to one message, joined. */
  ask(text: string, from?: Parameters<TestBot['say']>[1]): Promise<string>;
  click(
    cardId: string,
    params: Record<string, string>,
    user?: string,
    group?: string,
  ): Promise<import('../../core/messages/outbound.js').ActionResult>;
  stop(): Promise<void>;
}

/** A bot on an isolated store with the in-memory messenger, no HTTP port and captured logs. */
export async function createTestBot(options: TestBotOptions = {}): Promise<TestBot> {
  const storageUrl = options.storageUrl ?? testStorageUrl();
  const yaml = options.yaml ?? 'access:\n  admins: [alice]\n  roles:\n    oncall: [bob]\n';
  const env = { DINGOPS_STORAGE_URL: storageUrl, DINGOPS_LOCALE: 'en', ...options.env };
  const config = options.file
    ? loadConfig({ file: options.file, env })
    : loadConfig({ text: yaml, env, cwd: process.cwd() });
  const logs = new LogCapture();
  const bot = await Bot.create({
    config,
    plugins: options.plugins,
    logDestination: logs,
    listen: false,
    defaultMetrics: false,
    clock: options.clock,
    ...options.bot,
  });
  await bot.start();
  const messenger = bot.resolve<LocalMessenger>(MessengerToken);
  const say: TestBot['say'] = async (text, from = {}) => {
    const before = messenger.sent.length;
    const user = from.user ?? 'alice';
    const msg: InboundMessage = {
      id: randomUUID(),
      conversation: from.group
        ? { id: from.group, type: 'group', title: from.group }
        : { id: `dm-${user}`, type: 'direct' },
      sender: { userId: user, nick: from.nick ?? user, isAdmin: false },
      text,
      msgType: 'text',
      mentions: from.mentions ?? [],
      receivedAt: Date.now(),
      reply: {},
      via: 'test',
    };
    await bot.inbound.message(msg);
    return messenger.sent.slice(before);
  };
  return {
    bot,
    messenger,
    logs,
    storageUrl,
    say,
    ask: async (text, from) => (await say(text, from)).map((d) => d.rendered.plain).join('\n'),
    click: (cardId, params, user = 'alice', group) => {
      const action: CardAction = {
        id: randomUUID(),
        cardId,
        action: params.action ?? '',
        params,
        user: { userId: user, nick: user },
        conversation: group ? { id: group, type: 'group' } : undefined,
        receivedAt: Date.now(),
        via: 'test',
      };
      return bot.inbound.action(action);
    },
    stop: async () => {
      await bot.stop('test');
      if (!options.keepStorage) await dropTestStorage(storageUrl);
    },
  };
}
