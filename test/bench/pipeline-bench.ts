import { randomUUID } from 'node:crypto';
import type { CardRenderer } from '../../core/cards/card-renderer.js';
import { RendererToken } from '../../core/cards/card-renderer.js';
import { loadConfig } from '../../core/config/load-config.js';
import type { Messenger, SendReceipt } from '../../core/deliver/messenger.js';
import type { InboundMessage } from '../../core/messages/inbound.js';
import { definePlugin } from '../../core/plugins/define-plugin.js';
import { Bot } from '../../core/runtime/bot.js';
import { LogCapture } from '../helpers/test-bot.js';

/** Renders every reply exactly as delivery would, then drops it: the pipeline's last stage. */
class RenderingSink implements Messenger {
  rendered = 0;
  private static readonly RECEIPT: SendReceipt = { id: 'bench' };
  constructor(private readonly renderer: CardRenderer) {}
  send(_to: unknown, content: Parameters<Messenger['send']>[1]): Promise<SendReceipt> {
    this.renderer.render(content, { interactive: false });
    this.rendered++;
    return Promise.resolve(RenderingSink.RECEIPT);
  }
  async updateCard(): Promise<void> {}
}

const deployPlugin = definePlugin({
  name: 'benchops',
  setup(ctx) {
    ctx.commands.register({
      name: 'deploy',
      description: 'Deploy',
      args: [
        { name: 'service', type: 'string', pattern: /[a-z][a-z0-9-]*/ },
        { name: 'version', type: 'string' },
      ],
      options: [
        { name: 'note', type: 'string' },
        { name: 'canary', short: 'c', type: 'int', min: 1, max: 100, default: 10 },
        { name: 'force', type: 'boolean' },
      ],
      handler: ({ args }) =>
        `deploying ${args.service}@${args.version} (${args.canary}%)${args.force ? ' forced' : ''}`,
    });
  },
});

export interface PipelineResult {
  name: string;
  messages: number;
  perSecond: number;
  p50us: number;
  p99us: number;
}

function message(text: string, i: number): InboundMessage {
  return {
    id: `m${i}`,
    conversation: { id: 'cid-bench', type: 'group', title: 'bench' },
    sender: { userId: 'alice', nick: 'alice', isAdmin: false },
    text,
    msgType: 'text',
    mentions: [],
    receivedAt: 0,
    reply: {},
    via: 'bench',
  };
}

/**
 * normalize → parse → permission → handler → render, with audit records written in
 * batches to SQLite, one message at a time on one thread.
 */
export async function benchPipeline(count = 200_000): Promise<PipelineResult[]> {
  const config = loadConfig({
    text: 'access:\n  admins: [alice]\nlog:\n  level: warn\n',
    env: { DINGOPS_STORAGE_URL: `sqlite:/tmp/dingops-bench-${randomUUID()}.db` },
  });
  let sink!: RenderingSink;
  const bot = await Bot.create({
    config,
    plugins: [deployPlugin],
    listen: false,
    defaultMetrics: false,
    logDestination: new LogCapture(),
    messenger: (c) => {
      sink = new RenderingSink(c.resolve(RendererToken));
      return sink;
    },
  });
  await bot.start();
  const cases = [
    { name: 'ping', text: 'ping' },
    {
      name: 'deploy (quoted args, flags)',
      text: 'deploy api-gateway "v1.2.3 rc1" --note "rolling, see https://x/y?z=1" -c 25 --force',
    },
  ];
  const results: PipelineResult[] = [];
  for (const c of cases.filter((x) => !process.env.BENCH_ONLY || x.name.startsWith(process.env.BENCH_ONLY))) {
    const msgs = Array.from({ length: 1000 }, (_, i) => message(c.text, i));
    for (let i = 0; i < 20_000; i++) await bot.inbound.message(msgs[i % 1000]!); // warm up the JIT
    const lat = new Float64Array(count);
    const before = sink.rendered;
    const start = performance.now();
    for (let i = 0; i < count; i++) {
      const t0 = performance.now();
      await bot.inbound.message(msgs[i % 1000]!);
      lat[i] = performance.now() - t0;
    }
    const elapsed = performance.now() - start;
    if (sink.rendered - before !== count)
      throw new Error(`expected ${count} replies, rendered ${sink.rendered - before}`);
    lat.sort();
    results.push({
      name: c.name,
      messages: count,
      perSecond: Math.round(count / (elapsed / 1000)),
      p50us: lat[Math.floor(count * 0.5)]! * 1000,
      p99us: lat[Math.floor(count * 0.99)]! * 1000,
    });
  }
  await bot.stop();
  return results;
}
