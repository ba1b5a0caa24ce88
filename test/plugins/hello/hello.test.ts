import { afterEach, describe, expect, it } from 'vitest';
import { type Card, isCard } from '../../../core/cards/card.js';
import hello from '../../../plugins/hello/index.js';
import { createTestBot, type TestBot } from '../../helpers/test-bot.js';

let tb: TestBot;
afterEach(async () => tb?.stop());

describe('hello plugin (the README example)', () => {
  it('greets with the configured greeting and counts per user', async () => {
    tb = await createTestBot({ plugins: [hello], yaml: 'plugins:\n  hello:\n    greeting: Howdy\n' });
    expect(await tb.ask('hello world')).toContain('Howdy, world!');
    const second = await tb.ask('hi');
    expect(second).toContain('Howdy, alice!');
    expect(second).toContain('Greetings from alice so far: 2');
    expect(await tb.ask('hello', { user: 'bob' })).toContain('so far: 1');
  });

  it('updates the card when someone waves back, counting waves per card', async () => {
    tb = await createTestBot({ plugins: [hello] });
    const [sent] = await tb.say('hello team', { group: 'cid-ops' });
    expect(isCard(sent!.content)).toBe(true);
    const button = (sent!.content as Card).buttons![0]!;
    expect(button.action).toEqual({ id: 'hello.wave', params: { name: 'team', who: 'alice', count: '1' } });
    const params = { action: button.action!.id, ...button.action!.params };
    const first = await tb.click('card-1', params, 'bob', 'cid-ops');
    const second = await tb.click('card-1', params, 'carol', 'cid-ops');
    expect(first.card?.fields?.[0]?.value).toBe('Waves: 1');
    expect(second.card?.fields?.[0]?.value).toBe('Waves: 2');
    expect((await tb.click('card-2', params, 'bob', 'cid-ops')).card?.fields?.[0]?.value).toBe('Waves: 1');
  });

  it("keeps the greeter's count whoever waves, and its markdown hint waves instead of greeting again", async () => {
    tb = await createTestBot({ plugins: [hello] });
    await tb.ask('hello', { user: 'alice' });
    const [sent] = await tb.say('hello team', { group: 'cid-ops' });
    const card = sent!.content as Card;
    expect(card.body).toBe('Greetings from alice so far: 2');
    const button = card.buttons![0]!;
    const clicked = await tb.click(
      'card-9',
      { action: button.action!.id, ...button.action!.params },
      'bob',
      'cid-ops',
    );
    expect(clicked.card?.body).toBe('Greetings from alice so far: 2');
    expect(clicked.card?.fields?.[0]?.value).toBe('Waves: 1');
    // Without buttons (markdown), the hint is a command that does what the button does.
    expect(button.command).toBe('hello wave team');
    expect(await tb.ask('hello wave team', { user: 'bob' })).toBe('bob waves back at team 👋');
    expect(await tb.ask('hello world')).toContain('Hello, world!');
  });

  it('speaks Chinese when the bot locale is zh-CN', async () => {
    tb = await createTestBot({ plugins: [hello], env: { DINGOPS_LOCALE: 'zh-CN' } });
    expect(await tb.ask('你好 世界')).toContain('Hello，世界！');
  });

  it('rejects a bad config value with its path', async () => {
    await expect(
      createTestBot({ plugins: [hello], yaml: 'plugins:\n  hello:\n    maxWaves: -1\n' }),
    ).rejects.toThrow(/plugins\.hello\.maxWaves: .*(line 3)/);
  });
});
