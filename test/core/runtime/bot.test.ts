import { afterEach, describe, expect, it } from 'vitest';
import { definePlugin } from '../../../core/plugins/define-plugin.js';
import { createTestBot, type TestBot } from '../../helpers/test-bot.js';

let tb: TestBot | undefined;
afterEach(async () => {
  await tb?.stop().catch(() => undefined);
  tb = undefined;
});

function slowPlugin(release: Promise<void>) {
  return definePlugin({
    name: 'slow',
    setup(ctx) {
      ctx.commands.register({
        name: 'slow',
        description: 'waits',
        handler: async () => {
          await release;
          return 'finished';
        },
      });
    },
  });
}

describe('bot lifecycle', () => {
  it('lets in-flight commands finish and deliver before stopping', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    tb = await createTestBot({ plugins: [slowPlugin(gate)] });
    const pending = tb.say('slow');
    expect(tb.bot.inbound.inflightCount).toBe(1);
    const stopping = tb.bot.stop('test');
    setTimeout(release, 50);
    await stopping;
    await pending;
    expect(tb.messenger.sent.map((d) => d.rendered.plain)).toEqual(['finished']);
    expect(tb.bot.inbound.inflightCount).toBe(0);
    expect(tb.logs.text).toContain('"inflight":1');
    tb = undefined;
  });

  it('stops at the deadline when a handler never finishes, and says so', async () => {
    tb = await createTestBot({ plugins: [slowPlugin(new Promise(() => undefined))] });
    void tb.say('slow');
    const started = Date.now();
    await tb.bot.stop('test', 200);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(tb.logs.text).toContain('stop deadline reached with work still running');
    tb = undefined;
  });

  it('refuses new messages once stopping', async () => {
    tb = await createTestBot();
    await tb.bot.stop('test');
    await expect(tb.say('ping')).rejects.toThrow('bot is stopping');
    tb = undefined;
  });
});
