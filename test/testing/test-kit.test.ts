import { afterEach, describe, expect, it } from 'vitest';
import { definePlugin } from '../../core/plugins/define-plugin.js';
import hello from '../../plugins/hello/index.js';
import { createTestBot, FakeClock, type TestBot } from '../../testing/index.js';

let tb: TestBot | undefined;
afterEach(async () => {
  await tb?.stop();
  tb = undefined;
});

describe('dingops/testing', () => {
  it('asks, clicks a button by its text as another user, and waits for effects', async () => {
    tb = await createTestBot({ plugins: [hello], config: 'plugins:\n  hello:\n    greeting: Hi\n' });
    const reply = await tb.ask('hello team', { group: 'ops' });
    expect(reply.title).toBe('Hi, team!');
    const clicked = await tb.click(reply, 'Wave back', { as: 'bob' });
    expect(clicked.content).toContain('Waves: 1');
    await expect(tb.click(reply, 'No such button')).rejects.toThrow(/no button 'No such button'/);
    expect((await tb.ask('ping')).content).toBe('pong');
    expect(tb.messages('dm:alice').map((m) => m.content)).toEqual(['pong']);
    expect(tb.logs.some((l) => l.includes('"msg":"stream: connected"'))).toBe(true);
  });

  it('injects DingTalk faults, runs schedules on demand, and moves a fake clock', async () => {
    let ticks = 0;
    const clock = new FakeClock(1_000_000);
    const timed = definePlugin({
      name: 'timed',
      setup(ctx) {
        ctx.schedule('nightly', '0 3 * * *', () => void ticks++);
        ctx.commands.register({
          name: 'now',
          description: 'now',
          handler: () => String(ctx.now()),
        });
      },
    });
    tb = await createTestBot({ plugins: [timed, hello], clock: clock.now });
    await tb.runSchedule('timed:nightly');
    expect(ticks).toBe(1);
    clock.advance(5000);
    expect((await tb.ask('now')).content).toBe('1005000');
    const before = tb.sim.client.api.calls().calls.length;
    tb.faults({ throttleNext: 2 });
    // The card goes through the OpenAPI: throttled twice, retried by the outbox, delivered.
    expect((await tb.ask('hello team', { group: 'ops', timeoutMs: 8000 })).title).toBe('Hello, team!');
    const calls = tb.sim.client.api.calls().calls.slice(before);
    expect(calls.filter((c) => c.status >= 400).length).toBe(2);
  });
});
